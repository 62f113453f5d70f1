package io.freshet.core.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every feed protocol record survives the trip between nodes, field for field. */
class FeedCodecTest {

  private static <T extends FeedProtocol.Message> T roundTrip(T message) {
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) message.getClass();
    FeedCodec<T> codec = codecFor(type);
    Buffer wire = Buffer.buffer("header");
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire("header".length(), wire);
  }

  @SuppressWarnings("unchecked")
  private static <T extends FeedProtocol.Message> FeedCodec<T> codecFor(Class<T> type) {
    try {
      var ctor = FeedCodec.class.getDeclaredConstructor(Class.class);
      ctor.setAccessible(true);
      return (FeedCodec<T>) ctor.newInstance(type);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final FeedProtocol.FeedRef TAGS = new FeedProtocol.FeedRef("env_1",
      new FeedFilter.Tags(List.of("a", "ü-b"), 1234, List.of("EXECUTING")), RunColumn.selecting(List.of("payload")));

  @Test
  void requestsRoundTrip() {
    assertThat(roundTrip(new FeedProtocol.Open(TAGS, true))).isEqualTo(new FeedProtocol.Open(TAGS, true));
    assertThat(roundTrip(new FeedProtocol.Open(TAGS, false, "n1-0-1-abc"))).isEqualTo(new FeedProtocol.Open(TAGS, false, "n1-0-1-abc"));
    FeedProtocol.FeedRef run = new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("run_1"), RunColumn.ALL);
    assertThat(roundTrip(new FeedProtocol.Poll("h-0-1-abcd", run, 7, true, 20_000, "p1")))
        .isEqualTo(new FeedProtocol.Poll("h-0-1-abcd", run, 7, true, 20_000, "p1"));
    FeedProtocol.FeedRef batch = new FeedProtocol.FeedRef("env_1", new FeedFilter.Batch("batch_1"), RunColumn.ALL);
    assertThat(roundTrip(new FeedProtocol.Watch("h", batch, 3, "freshet.sink.n.0"))).isEqualTo(new FeedProtocol.Watch("h", batch, 3, "freshet.sink.n.0"));
    assertThat(roundTrip(new FeedProtocol.Cancel("h", "p"))).isEqualTo(new FeedProtocol.Cancel("h", "p"));
    assertThat(roundTrip(new FeedProtocol.Unwatch("h", "s"))).isEqualTo(new FeedProtocol.Unwatch("h", "s"));
    assertThat(roundTrip(new FeedProtocol.Refresh("s", List.of("h1", "h2")))).isEqualTo(new FeedProtocol.Refresh("s", List.of("h1", "h2")));
    assertThat(roundTrip(new FeedProtocol.Refreshed(List.of("h2")))).isEqualTo(new FeedProtocol.Refreshed(List.of("h2")));
  }

  @Test
  void slicesKeepTheirOffsetsAndMessagesAndRebuildTheSameBodies() {
    LogSlice slice = LogSlice.of(4, 5, List.of("{\"key\":\"k\",\"value\":{},\"headers\":{\"operation\":\"update\"}}"));
    FeedProtocol.Answer answer = roundTrip(new FeedProtocol.Answer("h", slice));
    assertThat(answer.handle()).isEqualTo("h");
    assertThat(answer.slice().from()).isEqualTo(4);
    assertThat(answer.slice().to()).isEqualTo(5);
    assertThat(answer.slice().electricBody()).isEqualTo(slice.electricBody());
    FeedProtocol.Pushes pushes = roundTrip(new FeedProtocol.Pushes(List.of(new FeedProtocol.Push("h", slice), new FeedProtocol.Push("g", LogSlice.unchanged(9)))));
    assertThat(pushes.pushes()).extracting(FeedProtocol.Push::handle).containsExactly("h", "g");
    assertThat(pushes.pushes().get(0).slice().sseEvents().toString()).isEqualTo(slice.sseEvents().toString());
    assertThat(pushes.pushes().get(1).slice().isEmpty()).isTrue();
  }
}
