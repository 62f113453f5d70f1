package io.freshet.router.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.push.PushProtocol.Push;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamRef;
import io.freshet.core.time.FakeScheduler;
import io.freshet.router.RouterSettings;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.FakeLag;
import io.freshet.router.engine.FakeSubscriptions;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The stream router's timing and tripwire, on a fake clock, scheduler and database. */
class StreamFeedsTest {

  private static final String ENV = "env_1";
  private static final StreamRef TOKENS = new StreamRef(ENV, "run_a", "tokens");

  /** The primary's chunks per stream, and how many of them the replica has applied. */
  static final class FakeStreams implements StreamSource {
    final Map<StreamRef, List<StreamChunk>> primary = new HashMap<>();
    final Map<StreamRef, Integer> applied = new HashMap<>();
    final Map<StreamRef, StreamState> states = new HashMap<>();
    final List<List<ChunkRead>> replicaReads = new ArrayList<>();
    final List<List<ChunkRead>> primaryReads = new ArrayList<>();

    /** Commits {@code n} chunks at {@code atMs}; returns the last seq. */
    long commit(StreamRef ref, int n, long atMs) {
      List<StreamChunk> chunks = primary.computeIfAbsent(ref, r -> new ArrayList<>());
      for (int i = 0; i < n; i++) {
        chunks.add(new StreamChunk(chunks.size(), atMs, "{\"i\":" + chunks.size() + "}"));
      }
      return chunks.size() - 1;
    }

    void applyAll(StreamRef ref) {
      applied.put(ref, primary.getOrDefault(ref, List.of()).size());
    }

    @Override
    public Future<StreamState> primaryState(StreamRef stream) {
      return Future.succeededFuture(states.getOrDefault(stream,
          new StreamState(false, true, primary.getOrDefault(stream, List.of()).size() - 1, null, false)));
    }

    @Override
    public Future<List<List<StreamChunk>>> read(List<ChunkRead> reads, boolean fromPrimary) {
      (fromPrimary ? primaryReads : replicaReads).add(reads);
      List<List<StreamChunk>> out = new ArrayList<>();
      for (ChunkRead read : reads) {
        List<StreamChunk> all = primary.getOrDefault(read.stream(), List.of());
        int visible = fromPrimary ? all.size() : applied.getOrDefault(read.stream(), 0);
        out.add(all.subList(0, visible).stream().filter(c -> c.seq() > read.afterSeq()).limit(read.limit()).toList());
      }
      return Future.succeededFuture(out);
    }
  }

  private final FakeScheduler scheduler = new FakeScheduler(1_000_000);
  private final FakeLag lag = new FakeLag();
  private final FakeStreams db = new FakeStreams();
  private final Map<String, List<Push>> pushed = new HashMap<>();
  private final FakeSubscriptions subscriptions = new FakeSubscriptions();
  private final java.util.Set<String> subscribed = subscriptions.subscribed;
  private StreamFeeds feeds;

  @BeforeEach
  void setUp() {
    feeds = feeds(FreshetConfig.defaults(), 2000);
  }

  private StreamFeeds feeds(FreshetConfig config, int tail) {
    return new StreamFeeds(RouterSettings.from(config), scheduler, db, lag,
        new PrimaryFallbackBudget(50, scheduler), new StreamMetrics(new SimpleMeterRegistry()),
        subscriptions, (sink, pushes) -> pushed.computeIfAbsent(sink, s -> new ArrayList<>()).addAll(pushes.pushes()), tail);
  }

  private final List<Object> answers = new ArrayList<>();

  private void watch(StreamRef ref, long afterSeq, String sink) {
    feeds.follow(ref, afterSeq, sink).onComplete(ar -> answers.add(ar.succeeded() ? ar.result()
        : ((io.freshet.core.FreshetException) ar.cause()).status() + " " + ar.cause().getMessage()));
  }

  private static List<StreamChunk> chunks(Caught caught) {
    return ((ChunkSlice) caught.slice()).chunks();
  }

  private static List<StreamChunk> chunks(Push push) {
    return ((ChunkSlice) push.slice()).chunks();
  }

  private void announce(StreamRef ref, long lastSeq, long atMs, boolean closed) {
    feeds.onAnnouncement(new StreamAnnouncement(ENV, List.of(new StreamAnnouncement.Item(ref.runId(), ref.key(), lastSeq, atMs, closed)),
        List.of()));
  }

  /** The seqs the first answer carried, then those pushed to {@code sink}. */
  private List<Long> delivered(String sink) {
    List<Long> seqs = new ArrayList<>(chunks((Caught) answers.get(0)).stream().map(StreamChunk::seq).toList());
    seqs.addAll(seqsPushed(sink));
    return seqs;
  }

  private List<Long> seqsPushed(String sink) {
    return pushed.getOrDefault(sink, List.of()).stream().flatMap(p -> chunks(p).stream()).map(StreamChunk::seq).toList();
  }

  /** Commits {@code n} chunks and announces them carrying their content. */
  private long announceCarrying(StreamRef ref, int n, long atMs) {
    long last = db.commit(ref, n, atMs);
    List<StreamChunk> all = db.primary.get(ref);
    feeds.onAnnouncement(new StreamAnnouncement(ENV, List.of(new StreamAnnouncement.Item(ref.runId(), ref.key(), last, atMs, false,
        all.subList(all.size() - n, all.size()))), List.of()));
    return last;
  }

  @Test
  void chunksAnAnnouncementCarriesArePushedAtOnceInOrderWithNoRead() {
    lag.lagMs = 1000;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announceCarrying(TOKENS, 2, at);
    announceCarrying(TOKENS, 3, at);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L, 3L, 4L);
    scheduler.advance(5000);
    assertThat(db.replicaReads).as("the replica is not read for chunks pushed from their announcement").isEmpty();
    assertThat(seqsPushed("sink-1")).as("each once").containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  @Test
  void aLogBehindTheCarriedChunksReadsThroughTheGateAndSkipsNothing() {
    lag.lagMs = 100;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 2, at), at, false); // chunks 0-1 announced without their content
    announceCarrying(TOKENS, 2, at); // 2-3 carried, but 0-1 are not delivered yet
    assertThat(seqsPushed("sink-1")).as("nothing out of order").isEmpty();
    db.applyAll(TOKENS);
    scheduler.advance(110);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L, 3L);
    announceCarrying(TOKENS, 1, scheduler.nowMs()); // caught up: the next carried chunk goes at once
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  @Test
  void carriedChunksOverTheSizeLimitAreReadFromTheReplica() {
    feeds = feeds(FreshetConfig.defaults().with(new io.vertx.core.json.JsonObject().put("router.rowImageMaxBytes", 4)), 2000);
    lag.lagMs = 100;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announceCarrying(TOKENS, 1, at); // "{\"i\":0}" is longer than 4 bytes
    assertThat(seqsPushed("sink-1")).isEmpty();
    db.applyAll(TOKENS);
    scheduler.advance(110);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(seqsPushed("sink-1")).containsExactly(0L);
  }

  @Test
  void aChunkIsReadOnceItsCommitIsOlderThanTheLagEstimate() {
    lag.lagMs = 200;
    watch(TOKENS, -1, "sink-1");
    assertThat(subscribed).containsExactly(ENV);
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 1, at), at, false);
    db.applyAll(TOKENS);
    scheduler.advance(209); // watermark + 200 ms lag + 10 ms margin
    assertThat(db.replicaReads).isEmpty();
    scheduler.advance(1);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(seqsPushed("sink-1")).containsExactly(0L);
  }

  @Test
  void aChunkWhoseCommitIsAlreadyOlderThanTheLagIsReadOnArrival() {
    lag.lagMs = 200;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs() - 500; // delayed in transit
    long last = db.commit(TOKENS, 3, at);
    db.applyAll(TOKENS);
    announce(TOKENS, last, at, false);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L);
  }

  @Test
  void aReadThatStopsShortOfTheAnnouncedSeqDeliversThePrefixAndRetriesForTheRest() {
    lag.lagMs = 100;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    db.commit(TOKENS, 3, at);
    db.applyAll(TOKENS);
    announce(TOKENS, db.commit(TOKENS, 2, at), at, false); // seqs 3 and 4 not applied yet
    scheduler.advance(110);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L);
    assertThat(lag.observed).containsExactly(110L);
    db.applyAll(TOKENS);
    scheduler.advance(1000);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(db.primaryReads).isEmpty();
  }

  @Test
  void chunksTheReplicaCannotServeWithinFreshWithinAreReadFromThePrimary() {
    lag.lagMs = 100;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 2, at), at, false); // never applied on the replica
    scheduler.advance(5000);
    assertThat(db.primaryReads).isNotEmpty();
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L);
    assertThat(scheduler.nowMs() - at).isGreaterThanOrEqualTo(1000);
  }

  @Test
  void oneReadServesEveryReaderOfAStreamOnTheNode() {
    watch(TOKENS, -1, "sink-1");
    watch(TOKENS, -1, "sink-2");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 2, at), at, false);
    db.applyAll(TOKENS);
    scheduler.advance(1000);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L);
    assertThat(seqsPushed("sink-2")).containsExactly(0L, 1L);
    assertThat(pushed.get("sink-1").get(0).slice()).isSameAs(pushed.get("sink-2").get(0).slice());
  }

  @Test
  void readsOfStreamsDueTogetherShareOneQuery() {
    List<StreamRef> refs = List.of(TOKENS, new StreamRef(ENV, "run_b", "tokens"), new StreamRef(ENV, "run_c", "logs"));
    refs.forEach(ref -> watch(ref, -1, "sink-1"));
    long at = scheduler.nowMs();
    for (StreamRef ref : refs) {
      db.commit(ref, 1, at);
      db.applyAll(ref);
    }
    feeds.onAnnouncement(new StreamAnnouncement(ENV, refs.stream()
        .map(r -> new StreamAnnouncement.Item(r.runId(), r.key(), 0, at, false)).toList(), List.of()));
    scheduler.advance(1000);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(db.replicaReads.get(0)).hasSize(3);
    assertThat(pushed.get("sink-1")).hasSize(3);
  }

  @Test
  void aClosedStreamCompletesItsReadersAfterItsLastChunk() {
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 3, at), at, true);
    db.applyAll(TOKENS);
    scheduler.advance(1000);
    List<Push> pushes = pushed.get("sink-1");
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L, 2L);
    assertThat(pushes.get(pushes.size() - 1).complete()).isTrue();
    // A reader joining afterwards is answered complete at once, from the tail.
    watch(TOKENS, 1, "sink-2");
    Caught caught = (Caught) answers.get(answers.size() - 1);
    assertThat(chunks(caught)).extracting(StreamChunk::seq).containsExactly(2L);
    assertThat(caught.complete()).isTrue();
  }

  @Test
  void aRunThatEndsCompletesAStreamItNeverWrote() {
    db.states.put(TOKENS, new StreamSource.StreamState(false, false, -1, null, false));
    watch(TOKENS, -1, "sink-1");
    assertThat(((Caught) answers.get(0)).complete()).isFalse();
    feeds.onAnnouncement(new StreamAnnouncement(ENV, List.of(), List.of("run_a")));
    assertThat(pushed.get("sink-1")).singleElement().satisfies(p -> {
      assertThat(chunks(p)).isEmpty();
      assertThat(p.complete()).isTrue();
    });
  }

  @Test
  void anUnknownRunOrAFinishedRunWithoutTheStreamIsRefused() {
    db.states.put(TOKENS, null);
    watch(TOKENS, -1, "sink-1");
    assertThat(answers).containsExactly("404 Run run_a not found");
    StreamRef other = new StreamRef(ENV, "run_b", "never");
    db.states.put(other, new StreamSource.StreamState(true, false, -1, null, false));
    watch(other, -1, "sink-1");
    assertThat(answers.get(1)).isEqualTo("404 run run_b ended without a stream 'never'");
    assertThat(feeds.logs()).isZero();
  }

  @Test
  void aReaderBeforeTheTailIsServedFromTheReplicaThenAsksAgain() {
    feeds = feeds(FreshetConfig.defaults(), 2);
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 5, at), at, false);
    db.applyAll(TOKENS);
    scheduler.advance(1000);
    watch(TOKENS, 0, "sink-2"); // the tail holds 3 and 4 only
    Caught caught = (Caught) answers.get(answers.size() - 1);
    assertThat(chunks(caught)).extracting(StreamChunk::seq).containsExactly(1L, 2L, 3L, 4L);
    assertThat(caught.more()).isTrue();
  }

  @Test
  void anIdleLogIsDroppedAndItsEnvironmentUnsubscribed() {
    watch(TOKENS, -1, "sink-1");
    feeds.unfollow(new PushProtocol.Unfollow(TOKENS.id(), "sink-1"));
    scheduler.advance(StreamFeeds.IDLE_TTL_MS);
    feeds.tick();
    assertThat(feeds.logs()).isZero();
    assertThat(subscribed).isEmpty();
  }

  @Test
  void aStreamOpensWithinASecondWhenItsSubscriptionIsStuckInTheClusterAndIsCheckedOnThePrimaryUntilItLands() {
    subscriptions.hold(); // the cluster's map of subscriptions waits on a frozen member's partition
    db.commit(TOKENS, 1, scheduler.nowMs());
    db.applyAll(TOKENS);
    watch(TOKENS, -1, "sink-1");
    assertThat(answers).as("waiting for the subscription").isEmpty();
    scheduler.advance(EnvSubscriptions.WAIT_MS);
    assertThat(answers).as("opened without it").hasSize(1);
    scheduler.advance(1000);
    assertThat(delivered("sink-1")).containsExactly(0L);
    db.commit(TOKENS, 1, scheduler.nowMs()); // announced on another node, which does not know this one's consumer yet
    db.applyAll(TOKENS);
    scheduler.advance(StreamFeeds.UNSUBSCRIBED_CHECK_MS + 1000);
    assertThat(delivered("sink-1")).as("found on the primary, not at the 20 s backstop").containsExactly(0L, 1L);
    subscriptions.release(ENV);
    db.commit(TOKENS, 1, scheduler.nowMs()); // lost across the moment the registration landed
    db.applyAll(TOKENS);
    scheduler.advance(StreamFeeds.UNSUBSCRIBED_CHECK_MS + 1000);
    assertThat(delivered("sink-1")).containsExactly(0L, 1L, 2L);
    int primaryReads = db.primaryReads.size();
    scheduler.advance(5_000);
    assertThat(db.primaryReads).as("no more checks once subscribed").hasSize(primaryReads);
  }

  @Test
  void aLostAnnouncementIsCaughtByTheBackstop() {
    watch(TOKENS, -1, "sink-1");
    db.commit(TOKENS, 2, scheduler.nowMs());
    db.applyAll(TOKENS); // committed and applied, but its announcement never arrived
    scheduler.advance(StreamFeeds.BACKSTOP_MS);
    feeds.refresh(new PushProtocol.Refresh("sink-1", List.of(new PushProtocol.Following(TOKENS.id(), 0)))); // the sink's proof of life, every 2 s in production
    feeds.tick();
    scheduler.advance(1000);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L);
  }

  @Test
  void aStaleLogIsReadAgainAsSoonAsTheReplicaReplaysPastTheCommitItNeeded() {
    lag.lagMs = 100;
    watch(TOKENS, -1, "sink-1");
    long at = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 2, at), at, false); // not applied yet
    scheduler.advance(110);
    assertThat(db.replicaReads).hasSize(1);
    assertThat(seqsPushed("sink-1")).isEmpty();
    // A later commit arrives meanwhile; the replica then replays the first one, not the second.
    long later = scheduler.nowMs();
    announce(TOKENS, db.commit(TOKENS, 1, later), later, false);
    db.applied.put(TOKENS, 2);
    lag.progress(at);
    scheduler.advance(5); // the next round (rounds start at most every 5 ms), long before the retry timer
    assertThat(db.replicaReads).hasSize(2);
    assertThat(seqsPushed("sink-1")).containsExactly(0L, 1L);
  }
}
