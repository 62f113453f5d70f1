package io.freshet.router.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.time.FakeScheduler;
import io.freshet.router.engine.EngineMetrics.Outcome;
import io.freshet.router.engine.EngineMetrics.Via;
import io.freshet.router.engine.ReadSource.Reading;
import io.freshet.router.engine.ReadSource.Readings;
import io.freshet.router.engine.ReadSource.Where;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The gated read on a fake clock, with a scriptable replica and primary whose values are the
 * positions themselves: what is read when, from where, what is delivered, what is held back, and
 * what the lag estimate is told. Every timing here is exact, so each assertion states the schedule.
 */
class GatedReadsTest {

  static final long LAG = 100;
  static final long MARGIN = 10;

  /** A replica and a primary of keys whose value is how far the key has come. */
  static final class Db implements ReadSource<String, Long> {
    record Read(long atMs, Where where, List<String> keys, int replica) {}

    final FakeScheduler clock;
    final boolean prefix;
    final Map<String, Long> replica = new HashMap<>();
    final Map<String, Long> primary = new HashMap<>();
    final List<Read> reads = new ArrayList<>();
    /** Reads answered by the test (to hold reads in flight); null: answered at once. */
    List<Runnable> held;
    boolean replicaDown;
    boolean primaryDown;
    Long replayedAt;
    /** A page: a key's read returns at most this far beyond where it was asked from (streams). */
    Map<String, Long> pageEnd = new HashMap<>();

    Db(FakeScheduler clock, boolean prefix) {
      this.clock = clock;
      this.prefix = prefix;
    }

    /** Committed on the primary, not yet applied on the replica. */
    void commit(String key, long position) {
      primary.put(key, position);
    }

    /** Applied on the replica. */
    void apply(String key, long position) {
      primary.merge(key, position, Math::max);
      replica.put(key, position);
    }

    @Override
    public Future<Readings<String, Long>> read(Collection<String> keys, Where where, int replicaIndex) {
      reads.add(new Read(clock.nowMs(), where, List.copyOf(keys), replicaIndex));
      Promise<Readings<String, Long>> answer = Promise.promise();
      Runnable run = () -> {
        if (where == Where.REPLICA ? replicaDown : primaryDown) {
          answer.fail(new IllegalStateException(where + " down"));
          return;
        }
        Map<String, Reading<Long>> byKey = new HashMap<>();
        for (String key : keys) {
          Long value = (where == Where.REPLICA ? replica : primary).get(key);
          if (value != null) {
            Long page = pageEnd.remove(key);
            boolean more = page != null && page < value;
            long reached = more ? page : value;
            byKey.put(key, new Reading<>(reached, reached, more));
          }
        }
        answer.complete(new Readings<>(byKey, where == Where.REPLICA ? replayedAt : null));
      };
      if (held != null) {
        held.add(run);
      } else {
        run.run();
      }
      return answer.future();
    }

    @Override
    public boolean deliversPrefix() {
      return prefix;
    }

    List<Read> reads(Where where) {
      return reads.stream().filter(r -> r.where() == where).toList();
    }
  }

  static final class Counts implements EngineMetrics {
    final Map<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
    final List<Long> gateDelays = new ArrayList<>();
    final Map<Via, Integer> via = new EnumMap<>(Via.class);
    int refused;
    int dropped;

    @Override
    public void settled(Via how, int keys) {
      via.merge(how, keys, Integer::sum);
    }

    @Override
    public void read(Where where, int replica, Reason reason, int keys) {}

    @Override
    public void gateDelay(long ms) {
      gateDelays.add(ms);
    }

    @Override
    public void outcome(Outcome outcome, int keys) {
      outcomes.merge(outcome, keys, Integer::sum);
    }

    @Override
    public void fallbackRefused(int keys) {
      refused += keys;
    }

    @Override
    public void watchedDropped() {
      dropped++;
    }

    int of(Outcome outcome) {
      return outcomes.getOrDefault(outcome, 0);
    }
  }

  final FakeScheduler clock = new FakeScheduler();
  final FakeLag lag = new FakeLag();

  {
    lag.lagMs = LAG;
  }
  final Counts counts = new Counts();
  final List<GatedReads.Settled<String, Long>> delivered = new ArrayList<>();
  final List<String> settledKeys = new ArrayList<>();
  Db db = new Db(clock, false);
  int budgetPerSecond = 50;
  int staleRetries = 3;
  GatedReads.Limits limits = new GatedReads.Limits(2, 500, 2, 0, 100);
  GatedReads<String, Long> engine;

  GatedReads<String, Long> engine() {
    if (engine == null) {
      SettlePolicy policy = new SettlePolicy(new ReplicaLagGate(GateMode.GATED, MARGIN, 1000), MARGIN, 1000, 25, 1000,
          budgetPerSecond > 0, staleRetries);
      engine = new GatedReads<>(policy, true, limits, clock, db, lag, new PrimaryFallbackBudget(budgetPerSecond, clock), counts,
          round -> {
            delivered.addAll(round.values());
            settledKeys.addAll(round.settled());
          });
    }
    return engine;
  }

  List<Long> values(String key) {
    return delivered.stream().filter(s -> s.key().equals(key)).map(GatedReads.Settled::value).toList();
  }

  // --- several replicas ----------------------------------------------------------------------------

  @Test
  void eachReadGoesWhereTheRoutesSayForTheNewestCommitItMustReachAndStalenessIsCountedAgainstThatReplica() {
    List<Long> needs = new ArrayList<>();
    lag.routes = need -> {
      needs.add(need);
      return needs.size() == 1 ? 2 : 1; // the first read to replica 2 (found stale), the retry to replica 1
    };
    long t0 = clock.nowMs();
    engine().expect("a", t0, t0);
    engine.expect("b", t0 + 1, t0 + 1); // due within the coalescing window: one read
    db.apply("a", t0 - 100);
    db.apply("b", t0 - 100);
    clock.advance(1 + LAG + MARGIN);
    assertThat(db.reads).hasSize(1);
    assertThat(db.reads.get(0).replica()).isEqualTo(2);
    assertThat(needs.get(0)).as("the newest commit of the batch").isEqualTo(t0 + 1);
    assertThat(lag.observed).hasSize(1);
    assertThat(lag.replicas).containsExactly(2);
    db.apply("a", t0);
    db.apply("b", t0 + 1);
    clock.advance(1000);
    assertThat(db.reads.get(1).replica()).isEqualTo(1);
    assertThat(values("a")).containsExactly(t0);
    assertThat(values("b")).containsExactly(t0 + 1);
  }

  @Test
  void aFailedReplicaReadIsReportedForThatReplica() {
    lag.routes = need -> 1;
    db.replicaDown = true;
    long t0 = clock.nowMs();
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN);
    assertThat(lag.failedReplicas).containsExactly(1);
  }

  // --- values that arrive with their commits ----------------------------------------------------

  @Test
  void aCommitThatCarriesItsValueIsDeliveredAtOnceWithNoRead() {
    long t0 = clock.nowMs();
    db.commit("a", t0);
    engine().arrived("a", t0, t0, t0);
    assertThat(values("a")).containsExactly(t0);
    assertThat(delivered.get(0).oldestWatermarkMs()).isEqualTo(t0);
    assertThat(settledKeys).containsExactly("a");
    clock.advance(LAG * 10);
    assertThat(db.reads).as("no gate, no read").isEmpty();
    assertThat(engine.hasPending("a")).isFalse();
    assertThat(counts.via).containsExactly(Map.entry(Via.RECORD, 1));
  }

  @Test
  void aCarriedValueSettlesTheOlderCommitsWaitingAtTheGateAndCountsFromTheOldest() {
    long t0 = clock.nowMs();
    engine().expect("a", t0, t0);
    clock.advance(20);
    engine.arrived("a", t0 + 20, t0 + 20, t0 + 20);
    assertThat(values("a")).containsExactly(t0 + 20);
    assertThat(delivered.get(0).oldestWatermarkMs()).as("the delivery lag counts from the oldest commit it settles").isEqualTo(t0);
    clock.advance(LAG * 10);
    assertThat(db.reads).isEmpty();
    assertThat(engine.pendingCount()).isZero();
  }

  @Test
  void aNewerCommitWithoutItsValueIsStillReadThroughTheGate() {
    long t0 = clock.nowMs();
    engine().expect("a", t0 + 30, t0 + 30); // a record without a row, newer than the one that carried its value
    engine.arrived("a", t0, t0, t0);
    assertThat(values("a")).containsExactly(t0);
    assertThat(engine.hasPending("a")).isTrue();
    db.apply("a", t0 + 30);
    clock.advance(30 + LAG + MARGIN);
    assertThat(values("a")).containsExactly(t0, t0 + 30);
    assertThat(counts.via).containsEntry(Via.RECORD, 1).containsEntry(Via.READ, 1);
  }

  @Test
  void aReadInFlightWhenTheValueArrivesDeliversNothingOlderAndIsNotRetried() {
    db.held = new ArrayList<>();
    long t0 = clock.nowMs() - 1000;
    engine().expect("a", t0, t0);
    clock.advance(1);
    assertThat(db.reads).hasSize(1);
    engine.arrived("a", t0, t0, t0);
    assertThat(engine.hasPending("a")).as("a snapshot waiting for it may be served").isFalse();
    db.held.remove(0).run(); // the replica had not applied it: nothing, which would be stale
    assertThat(values("a")).containsExactly(t0);
    clock.advance(LAG * 10);
    assertThat(db.reads).as("no retry of a commit already delivered").hasSize(1);
    assertThat(counts.of(Outcome.GAVE_UP) + counts.of(Outcome.RECOVERED)).isZero();
  }

  @Test
  void aReadInFlightThatFindsMoreThanArrivedStillDeliversIt() {
    db.held = new ArrayList<>();
    long t0 = clock.nowMs() - 1000;
    engine().expect("a", t0 + 5, t0 + 5);
    clock.advance(1);
    engine.arrived("a", t0, t0, t0);
    db.apply("a", t0 + 5);
    db.held.remove(0).run();
    assertThat(values("a")).containsExactly(t0, t0 + 5);
    assertThat(engine.hasPending("a")).isFalse();
  }

  @Test
  void anUnstampedChangeWhoseReadLandsAfterACarriedValueIsNotReadAgainAndAgain() {
    db.held = new ArrayList<>();
    long t0 = clock.nowMs();
    db.apply("a", t0);
    engine().expectUnstamped("a");
    clock.advance(1);
    assertThat(db.reads).hasSize(1);
    engine.arrived("a", t0, t0, t0);
    db.held.remove(0).run(); // finds the version that arrived, no newer
    clock.advance(LAG * 20);
    assertThat(db.reads).as("the unstamped change was read once").hasSize(1);
    assertThat(engine.pendingCount()).isZero();
    assertThat(values("a")).containsExactly(t0);
  }

  @Test
  void aNewerCommitWithoutItsValueBehindAStalledReplicaIsRetriedOnTheScheduleAndFallsBackToThePrimary() {
    long t0 = clock.nowMs();
    db.apply("a", t0);
    engine().expect("a", t0 + 30, t0 + 30);
    engine.arrived("a", t0, t0, t0);
    db.commit("a", t0 + 30); // the replica never applies it
    clock.advance(2000);
    assertThat(db.reads(Where.REPLICA).size()).as("retries, not a read per turn").isLessThanOrEqualTo(staleRetries + 2);
    assertThat(db.reads(Where.PRIMARY)).as("the fallback at the commit's deadline").hasSize(1);
    assertThat(values("a")).containsExactly(t0, t0 + 30);
    assertThat(engine.pendingCount()).isZero();
  }

  /**
   * Key "a" committed at the returned time, read once from a replica one version behind, given up
   * on (no retries, no fallback) and watched.
   */
  private long watchedKey() {
    budgetPerSecond = 0;
    staleRetries = 0;
    long t0 = clock.nowMs();
    db.apply("a", t0 - 1);
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN);
    assertThat(engine.watchedCount()).isEqualTo(1);
    return t0;
  }

  @Test
  void aWatchReadInFlightWhenTheValueArrivesLeavesNothingWatched() {
    long t0 = watchedKey();
    db.held = new ArrayList<>();
    engine.replicaProgressed(null); // the replica moved: a watch read goes out
    clock.advance(1);
    assertThat(db.held).hasSize(1);
    engine.arrived("a", t0, t0, t0);
    db.held.remove(0).run();
    assertThat(engine.watchedCount()).isZero();
    assertThat(engine.pendingCount()).isZero();
  }

  @Test
  void aWatchedKeyWhoseValueArrivesIsNoLongerWatched() {
    long t0 = watchedKey();
    engine.arrived("a", t0, t0, t0);
    assertThat(engine.watchedCount()).isZero();
    assertThat(engine.pendingCount()).isZero();
    assertThat(values("a")).containsExactly(t0 - 1, t0);
  }

  // --- the gate ----------------------------------------------------------------------------------

  @Test
  void readsACommitOnceItIsOlderThanTheLagEstimatePlusTheMargin() {
    long t0 = clock.nowMs();
    db.commit("a", t0);
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN - 1);
    assertThat(db.reads).isEmpty();
    db.apply("a", t0);
    clock.advance(1);
    assertThat(db.reads).extracting(Db.Read::atMs).containsExactly(t0 + LAG + MARGIN);
    assertThat(values("a")).containsExactly(t0);
    assertThat(settledKeys).containsExactly("a");
    assertThat(engine.hasPending("a")).isFalse();
    assertThat(counts.gateDelays).containsExactly(LAG + MARGIN);
  }

  @Test
  void aRecordThatSpentLongerThanTheLagInTransitIsReadAtOnce() {
    long committed = clock.nowMs() - 500;
    db.apply("a", committed);
    engine().expect("a", committed, committed);
    clock.advance(1);
    assertThat(db.reads).extracting(Db.Read::atMs).containsExactly(committed + 500);
    assertThat(values("a")).containsExactly(committed);
  }

  @Test
  void keysDueWithinTheCoalescingWindowShareOneRead() {
    long t0 = clock.nowMs();
    db.apply("a", t0);
    db.apply("b", t0 + 2);
    db.apply("c", t0 + 50);
    engine().expect("a", t0, t0);
    engine.expect("b", t0 + 2, t0 + 2);
    engine.expect("c", t0 + 50, t0 + 50);
    clock.advance(LAG + MARGIN + 60);
    assertThat(db.reads).extracting(Db.Read::keys).containsExactly(List.of("a", "b"), List.of("c"));
  }

  @Test
  void aKeyWrittenFasterThanTheReplicaAppliesIsGatedOnItsOldestCommit() {
    long t0 = clock.nowMs();
    engine().expect("a", t0, t0);
    clock.advance(50);
    engine.expect("a", t0 + 50, t0 + 50); // does not postpone the first
    db.apply("a", t0);
    clock.advance(LAG + MARGIN - 50);
    assertThat(db.reads).extracting(Db.Read::atMs).containsExactly(t0 + LAG + MARGIN);
    assertThat(values("a")).containsExactly(t0);
    assertThat(engine.hasPending("a")).as("the second commit is still on its way").isTrue();
    db.apply("a", t0 + 50);
    clock.advance(50);
    assertThat(values("a")).containsExactly(t0, t0 + 50);
  }

  // --- the tripwire ------------------------------------------------------------------------------

  @Test
  void aStaleVersionIsHeldBackReadAgainAndWidensTheEstimate() {
    long t0 = clock.nowMs();
    db.apply("a", t0 - 1000);
    db.commit("a", t0);
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN);
    assertThat(values("a")).as("the previous version is never delivered while retries remain").isEmpty();
    assertThat(lag.observed).containsExactly(LAG + MARGIN);
    db.apply("a", t0);
    clock.advance(500);
    assertThat(values("a")).containsExactly(t0);
    assertThat(counts.of(EngineMetrics.Outcome.RECOVERED)).isEqualTo(1);
    assertThat(db.reads(Where.REPLICA)).hasSize(2);
  }

  @Test
  void anIncrementThatStopsShortIsDeliveredAtOnceAndTheRestReadAgain() {
    db = new Db(clock, true);
    long t0 = clock.nowMs();
    db.apply("s", 7);
    engine().expect("s", 10, t0);
    clock.advance(LAG + MARGIN);
    assertThat(values("s")).as("a prefix of increments is final content").containsExactly(7L);
    assertThat(engine.hasPending("s")).isTrue();
    db.apply("s", 10);
    clock.advance(500);
    assertThat(values("s")).containsExactly(7L, 10L);
  }

  @Test
  void aMissingKeyIsTheInsertRaceAndIsReadAgain() {
    long t0 = clock.nowMs();
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN);
    assertThat(values("a")).isEmpty();
    assertThat(engine.hasPending("a")).isTrue();
    db.apply("a", t0);
    clock.advance(500);
    assertThat(values("a")).containsExactly(t0);
  }

  @Test
  void aPageOfMoreIsReadOnAtOnceWithoutCountingAsStale() {
    db = new Db(clock, true);
    long t0 = clock.nowMs() - 1000;
    db.apply("s", 3000);
    db.pageEnd.put("s", 1000L);
    engine().expect("s", 3000, t0);
    clock.advance(1);
    assertThat(values("s")).containsExactly(1000L, 3000L);
    assertThat(db.reads).hasSize(2);
    assertThat(lag.observed).isEmpty();
  }

  @Test
  void aChangeWithoutAWatermarkIsReadOnArrivalWithNoTripwire() {
    db.apply("a", 5);
    engine().expectUnstamped("a");
    clock.advance(1);
    assertThat(values("a")).containsExactly(5L);
    assertThat(engine.hasPending("a")).isFalse();
  }

  // --- fallback, liveness, watch -------------------------------------------------------------------

  @Test
  void aCommitTheReplicaCannotServeInTimeIsReadFromThePrimaryAtItsDeadline() {
    long t0 = clock.nowMs();
    db.apply("a", t0 - 1);
    db.commit("a", t0);
    engine().expect("a", t0, t0);
    clock.advance(1000);
    assertThat(db.reads(Where.PRIMARY)).extracting(Db.Read::atMs).containsExactly(t0 + 1000);
    assertThat(values("a")).containsExactly(t0);
    assertThat(counts.of(EngineMetrics.Outcome.PRIMARY)).isEqualTo(1);
    assertThat(values("a")).doesNotContain(t0 - 1);
  }

  @Test
  void anEstimateBeyondTheDeadlineReadsThePrimaryFirst() {
    lag.lagMs = 5000;
    long t0 = clock.nowMs();
    db.commit("a", t0);
    engine().expect("a", t0, t0);
    clock.advance(1000);
    assertThat(db.reads).extracting(Db.Read::where).containsExactly(Where.PRIMARY);
    assertThat(values("a")).containsExactly(t0);
  }

  @Test
  void withoutAFallbackTheReplicasValueIsDeliveredWhenRetriesRunOutThenTheKeyIsWatched() {
    budgetPerSecond = 0;
    long t0 = clock.nowMs();
    db.apply("a", t0 - 1);
    db.commit("a", t0);
    db.replayedAt = t0 - 1;
    engine().expect("a", t0, t0);
    clock.advance(10_000);
    assertThat(db.reads(Where.PRIMARY)).isEmpty();
    assertThat(db.reads(Where.REPLICA)).hasSize(staleRetries + 1);
    assertThat(values("a")).as("liveness: the last value the replica had").containsExactly(t0 - 1);
    assertThat(counts.of(EngineMetrics.Outcome.GAVE_UP)).isEqualTo(1);
    assertThat(engine.watchedCount()).isEqualTo(1);
    assertThat(engine.hasPending("a")).as("watched, not pending").isFalse();
    int readsBefore = db.reads.size();
    clock.advance(60_000);
    assertThat(db.reads).as("a watched key costs no read while the replica stands still").hasSize(readsBefore);
    engine.replicaProgressed(t0 - 1);
    clock.advance(10);
    assertThat(db.reads).as("progress short of its commit").hasSize(readsBefore);
    db.apply("a", t0);
    engine.replicaProgressed(t0);
    clock.advance(10);
    assertThat(values("a")).containsExactly(t0 - 1, t0);
    assertThat(counts.of(EngineMetrics.Outcome.STALL_RECOVERED)).isEqualTo(1);
    assertThat(engine.watchedCount()).isZero();
  }

  @Test
  void aPrimaryReadTheBudgetRefusesGoesToTheReplicaAndGivesUpIfStillStale() {
    budgetPerSecond = 1;
    long t0 = clock.nowMs();
    for (String key : List.of("a", "b")) {
      db.apply(key, t0 - 1);
      db.commit(key, t0);
      engine().expect(key, t0, t0);
    }
    clock.advance(1000);
    assertThat(db.reads(Where.PRIMARY)).extracting(Db.Read::keys).containsExactly(List.of("a"));
    assertThat(counts.refused).isEqualTo(1);
    assertThat(values("a")).containsExactly(t0);
    assertThat(values("b")).as("refused: the replica's value, for liveness").containsExactly(t0 - 1);
    assertThat(engine.watchedCount()).isEqualTo(1);
  }

  @Test
  void anUnreachableReplicaSendsTheChangeToThePrimaryAtOnce() {
    long t0 = clock.nowMs();
    db.commit("a", t0);
    db.replicaDown = true;
    engine().expect("a", t0, t0);
    clock.advance(LAG + MARGIN);
    assertThat(db.reads).extracting(Db.Read::where).containsExactly(Where.REPLICA, Where.PRIMARY);
    assertThat(values("a")).containsExactly(t0);
    assertThat(lag.observed).as("a failed read proves no lag").isEmpty();
  }

  @Test
  void aRetryIsPulledForwardWhenTheReplicaIsSeenToHaveAppliedItsCommit() {
    long t0 = clock.nowMs();
    db.apply("a", t0 - 1);
    db.commit("a", t0);
    lag.lagMs = 0;
    engine().expect("a", t0, t0);
    clock.advance(MARGIN);
    assertThat(db.reads).hasSize(1);
    lag.lagMs = 600; // the retry now aims far out
    engine.estimateChanged();
    db.apply("a", t0);
    engine.replicaProgressed(t0);
    clock.advance(1);
    assertThat(db.reads).hasSize(2);
    assertThat(values("a")).containsExactly(t0);
  }

  // --- limits ------------------------------------------------------------------------------------

  @Nested
  class Limits {

    @Test
    void readsInFlightNeverExceedTheLimitEvenWithPrimaryAndReplicaReadsDue() {
      limits = new GatedReads.Limits(1, 1, 0, 0, 100);
      db.held = new ArrayList<>();
      long t0 = clock.nowMs();
      lag.lagMs = 5000; // "a" goes to the primary first
      db.commit("a", t0);
      engine().expect("a", t0, t0);
      engine.expectUnstamped("b"); // due on the replica at once
      db.apply("b", 1);
      clock.advance(1000);
      assertThat(db.reads).as("one read in flight").hasSize(1);
      db.held.remove(0).run();
      clock.advance(1);
      assertThat(db.reads).hasSize(2);
      assertThat(db.reads).extracting(Db.Read::where).containsExactlyInAnyOrder(Where.PRIMARY, Where.REPLICA);
    }

    @Test
    void oneReadPerKeyAtATimeAndWhatArrivesMeanwhileIsMerged() {
      db.held = new ArrayList<>();
      long t0 = clock.nowMs() - 1000;
      db.apply("a", t0);
      engine().expect("a", t0, t0);
      clock.advance(1);
      assertThat(db.reads).hasSize(1);
      engine.expect("a", t0 + 1, t0 + 1);
      clock.advance(5);
      assertThat(db.reads).as("not read twice at once").hasSize(1);
      db.held.remove(0).run();
      assertThat(values("a")).containsExactly(t0);
      assertThat(db.reads).as("the commit that arrived meanwhile is read as soon as the first read lands").hasSize(2);
      db.apply("a", t0 + 1);
      db.held.remove(0).run();
      assertThat(values("a")).containsExactly(t0, t0 + 1);
      assertThat(engine.hasPending("a")).isFalse();
    }

    @Test
    void roundsStartNoMoreOftenThanTheirPace() {
      limits = new GatedReads.Limits(2, 500, 0, 5, 100);
      long t0 = clock.nowMs() - 1000;
      engine();
      for (int i = 0; i < 10; i++) {
        db.apply("k" + i, t0 + i);
        engine.expect("k" + i, t0 + i, t0 + i);
        clock.advance(1);
      }
      clock.advance(10);
      List<Long> starts = db.reads.stream().map(Db.Read::atMs).toList();
      for (int i = 1; i < starts.size(); i++) {
        assertThat(starts.get(i) - starts.get(i - 1)).isGreaterThanOrEqualTo(5);
      }
      assertThat(delivered).hasSize(10);
    }

    @Test
    void watchedKeysPastTheBoundAreDroppedOldestFirst() {
      budgetPerSecond = 0;
      staleRetries = 0;
      limits = new GatedReads.Limits(2, 500, 2, 0, 2);
      long t0 = clock.nowMs();
      for (String key : List.of("a", "b", "c")) {
        db.apply(key, t0 - 1);
        db.commit(key, t0);
        engine().expect(key, t0, t0);
        clock.advance(2000);
      }
      assertThat(engine.watchedCount()).isEqualTo(2);
      assertThat(counts.dropped).isEqualTo(1);
      assertThat(engine.hasPending("a")).isFalse();
    }
  }

  @Test
  void aForgottenKeyIsNeitherReadNorDelivered() {
    db.held = new ArrayList<>();
    long t0 = clock.nowMs() - 1000;
    db.apply("a", t0);
    engine().expect("a", t0, t0);
    clock.advance(1);
    engine.forget("a");
    db.held.remove(0).run();
    assertThat(delivered).isEmpty();
    engine.expect("b", t0, t0);
    engine.forget("b");
    clock.advance(10);
    assertThat(db.reads).hasSize(1);
  }
}
