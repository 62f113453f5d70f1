package io.freshet.core.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every message that crosses nodes survives the trip, field for field; node-local ones refuse to travel. */
class BusCodecsTest {

  /** The codecs {@link NodeCodecs} registers, by type, captured from a stand-in event bus. */
  private static final Map<Class<?>, MessageCodec<?, ?>> CODECS = new HashMap<>();

  static {
    EventBus bus = (EventBus) Proxy.newProxyInstance(BusCodecsTest.class.getClassLoader(), new Class<?>[] {EventBus.class},
        (proxy, method, args) -> {
          if (method.getName().equals("registerDefaultCodec")) {
            CODECS.put((Class<?>) args[0], (MessageCodec<?, ?>) args[1]);
          }
          return proxy;
        });
    Vertx vertx = (Vertx) Proxy.newProxyInstance(BusCodecsTest.class.getClassLoader(), new Class<?>[] {Vertx.class},
        (proxy, method, args) -> method.getName().equals("eventBus") ? bus : null);
    NodeCodecs.register(vertx);
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T message) {
    MessageCodec<T, T> codec = (MessageCodec<T, T>) CODECS.get(message.getClass());
    assertThat(codec).as("a codec for %s", message.getClass().getSimpleName()).isNotNull();
    Buffer wire = Buffer.buffer("header");
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire("header".length(), wire);
  }

  private static final FeedProtocol.FeedRef TAGS = new FeedProtocol.FeedRef("env_1",
      new FeedFilter.Tags(List.of("a", "ü-b"), 1234, List.of("EXECUTING")), RunColumn.selecting(List.of("payload")));

  @Test
  void feedRequestsRoundTrip() {
    assertThat(roundTrip(new FeedProtocol.Open(TAGS, true))).isEqualTo(new FeedProtocol.Open(TAGS, true));
    assertThat(roundTrip(new FeedProtocol.Open(TAGS, false, "n1-0-1-abc"))).isEqualTo(new FeedProtocol.Open(TAGS, false, "n1-0-1-abc"));
    FeedProtocol.FeedRef run = new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("run_1"), RunColumn.ALL);
    assertThat(roundTrip(new FeedProtocol.Poll("h-0-1-abcd", run, 7, true, 20_000, "p1")))
        .isEqualTo(new FeedProtocol.Poll("h-0-1-abcd", run, 7, true, 20_000, "p1"));
    assertThat(roundTrip(new FeedProtocol.Cancel("h", "p"))).isEqualTo(new FeedProtocol.Cancel("h", "p"));
    io.freshet.core.RunRow row = new io.freshet.core.RunRow("run_1", "env_1", null, 1000, 2000, List.of("t1", "t2"),
        java.util.Arrays.stream(RunColumn.values()).map(c -> c == RunColumn.FRIENDLY_ID ? "run_1" : c.ordinal() % 3 == 0 ? null : "v" + c.ordinal())
            .toArray(String[]::new));
    FeedProtocol.Handover handover = roundTrip(new FeedProtocol.Handover("n1-0-1-abcd", TAGS, 9, List.of(row), java.util.Map.of("run_2", 1500L),
        List.of(new FeedProtocol.HandedEntry(9, List.of("UPDATE"), List.of(row))), List.of("freshet.sink.n1.0")));
    assertThat(handover.handle()).isEqualTo("n1-0-1-abcd");
    assertThat(handover.feed()).isEqualTo(TAGS);
    assertThat(handover.seq()).isEqualTo(9);
    assertThat(handover.left()).containsExactly(java.util.Map.entry("run_2", 1500L));
    assertThat(handover.sinks()).containsExactly("freshet.sink.n1.0");
    for (io.freshet.core.RunRow back : List.of(handover.rows().get(0), handover.entries().get(0).rows().get(0))) {
      assertThat(back.image()).isEqualTo(row.image());
      assertThat(back.tags()).isEqualTo(row.tags());
      assertThat(back.updatedAtMs()).isEqualTo(2000);
    }
    assertThat(handover.entries().get(0).ops()).containsExactly("UPDATE");
    assertThat(roundTrip(new FeedProtocol.Adopted("freshet.router.n2.1"))).isEqualTo(new FeedProtocol.Adopted("freshet.router.n2.1"));
    assertThat(roundTrip(new io.freshet.core.push.PushProtocol.Moved("h", "freshet.router.n2.0")))
        .isEqualTo(new io.freshet.core.push.PushProtocol.Moved("h", "freshet.router.n2.0"));
  }

  @Test
  void thePushPathRoundTrips() {
    FeedProtocol.FeedRef batch = new FeedProtocol.FeedRef("env_1", new FeedFilter.Batch("batch_1"), RunColumn.ALL);
    PushProtocol.Follow feed = new PushProtocol.Follow(new PushProtocol.FeedLog("h", batch), 3, "freshet.sink.n.0");
    assertThat(roundTrip(feed)).isEqualTo(feed);
    PushProtocol.Follow stream = new PushProtocol.Follow(new PushProtocol.Stream(new StreamRef("env_1", "run_1", "tökens")), -1, "s");
    assertThat(roundTrip(stream)).isEqualTo(stream);
    assertThat(roundTrip(new PushProtocol.Unfollow("h", "s"))).isEqualTo(new PushProtocol.Unfollow("h", "s"));
    List<PushProtocol.Following> following = List.of(new PushProtocol.Following("h1", 7), new PushProtocol.Following("h2", PushProtocol.Following.UNKNOWN));
    assertThat(roundTrip(new PushProtocol.Refresh("s", following))).isEqualTo(new PushProtocol.Refresh("s", following));
    assertThat(roundTrip(new PushProtocol.Refreshed(List.of("h2"), List.of(new PushProtocol.Following("h1", 9)))))
        .isEqualTo(new PushProtocol.Refreshed(List.of("h2"), List.of(new PushProtocol.Following("h1", 9))));
  }

  /** A node of the previous version, in a rolling upgrade, sends refreshes without positions and answers without heads. */
  @Test
  void refreshesInThePreviousWireFormAreReadWithoutPositions() {
    Buffer refresh = Buffer.buffer("header");
    int at = refresh.length();
    refresh.appendInt(0);
    Wire.writing(refresh).string("s").strings(List.of("h1", "h2"));
    refresh.setInt(at, refresh.length() - at - 4);
    refresh.appendString("what follows the body");
    assertThat(decode(PushProtocol.Refresh.class, refresh)).isEqualTo(new PushProtocol.Refresh("s",
        List.of(new PushProtocol.Following("h1", PushProtocol.Following.UNKNOWN), new PushProtocol.Following("h2", PushProtocol.Following.UNKNOWN))));
    Buffer refreshed = Buffer.buffer("header");
    refreshed.appendInt(0);
    Wire.writing(refreshed).strings(List.of("h2"));
    refreshed.setInt(at, refreshed.length() - at - 4);
    refreshed.appendString("what follows the body");
    assertThat(decode(PushProtocol.Refreshed.class, refreshed)).isEqualTo(new PushProtocol.Refreshed(List.of("h2"), List.of()));
  }

  @SuppressWarnings("unchecked")
  private static <T> T decode(Class<T> type, Buffer wire) {
    return ((MessageCodec<T, T>) CODECS.get(type)).decodeFromWire("header".length(), wire);
  }

  @Test
  void slicesKeepTheirPositionsAndRebuildTheSameBytes() {
    LogSlice slice = LogSlice.of(4, 5, List.of("{\"key\":\"k\",\"value\":{},\"headers\":{\"operation\":\"update\"}}"));
    FeedProtocol.Answer answer = roundTrip(new FeedProtocol.Answer("h", slice));
    assertThat(answer.handle()).isEqualTo("h");
    assertThat(answer.slice().from()).isEqualTo(4);
    assertThat(answer.slice().to()).isEqualTo(5);
    assertThat(answer.slice().electricBody()).isEqualTo(slice.electricBody());
    ChunkSlice chunks = ChunkSlice.of(6, List.of(new StreamChunk(7, 1000, "line one"), new StreamChunk(8, 1001, "two\nlines")));
    PushProtocol.Pushes pushes = roundTrip(new PushProtocol.Pushes(List.of(new PushProtocol.Push("h", slice, false),
        new PushProtocol.Push("g", LogSlice.unchanged(9), false), new PushProtocol.Push("stream/e/r/k", chunks, true))));
    assertThat(pushes.pushes()).extracting(PushProtocol.Push::log).containsExactly("h", "g", "stream/e/r/k");
    assertThat(pushes.pushes().get(0).slice().eventsAfter(4).toString()).isEqualTo(slice.sseEvents().toString());
    assertThat(pushes.pushes().get(1).slice().isEmpty()).isTrue();
    PushProtocol.Push pushed = pushes.pushes().get(2);
    assertThat(pushed.complete()).isTrue();
    assertThat(pushed.slice().from()).isEqualTo(6);
    assertThat(pushed.slice().to()).isEqualTo(8);
    assertThat(pushed.slice().eventsAfter(6).toString()).isEqualTo(chunks.eventsAfter(6).toString());
    assertThat(pushed.slice().eventsAfter(7).toString()).isEqualTo("id: 1001-8\ndata: two\ndata: lines\n\n");
    assertThat(pushed.slice().eventsAfter(5)).as("a reader before the slice has a gap").isNull();
    PushProtocol.Caught caught = roundTrip(new PushProtocol.Caught(chunks, false, true));
    assertThat(caught.more()).isTrue();
    assertThat(caught.slice().to()).isEqualTo(8);
  }

  @Test
  void streamAnnouncementsRoundTrip() {
    StreamAnnouncement announcement = new StreamAnnouncement("env_1",
        List.of(new StreamAnnouncement.Item("run_1", "tokens", 41, 1_700_000_000_123L, false),
            new StreamAnnouncement.Item("run_2", "logs", -1, 1_700_000_000_456L, true)), List.of("run_3"));
    assertThat(roundTrip(announcement)).isEqualTo(announcement);
  }

  @Test
  void nodeLocalMessagesRefuseToCrossTheCluster() {
    @SuppressWarnings("unchecked")
    MessageCodec<StreamProtocol.Appended, StreamProtocol.Appended> codec =
        (MessageCodec<StreamProtocol.Appended, StreamProtocol.Appended>) CODECS.get(StreamProtocol.Appended.class);
    assertThat(codec).isNotNull();
    assertThatThrownBy(() -> codec.encodeToWire(Buffer.buffer(), new StreamProtocol.Appended(3)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("node-local");
  }
}
