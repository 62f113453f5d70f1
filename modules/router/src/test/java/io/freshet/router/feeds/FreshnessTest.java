package io.freshet.router.feeds;

import static io.freshet.router.feeds.RouterHarness.runFilter;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Fresh content through stalls: the primary fallback, its budget, the watch, a replica that is down, the first change after idle. */
class FreshnessTest {

  private static RouterHarness harness(JsonObject overrides) {
    return new RouterHarness(new JsonObject().put("gate.marginMs", 10).mergeIn(overrides));
  }

  /** Follows r1 (snapshot v0) and returns a held poll at offset 1. */
  private static RouterHarness.Replies follow(RouterHarness h) {
    h.apply("r1", h.clock() - 60_000, "v0");
    h.db.replayedAtMs = h.clock() - 60_000;
    return h.follow("r1", 5);
  }

  @Test
  void aChangeAPausedReplicaCannotServeIsReadFromThePrimaryAtItsDeadline() {
    RouterHarness h = harness(new JsonObject());
    h.lag.lagMs = 150;
    RouterHarness.Replies live = follow(h);
    long commit = h.clock();
    h.commit("r1", commit, "v1"); // the replica's replay is paused: it never shows v1
    h.record("r1", commit);
    h.scheduler.advance(h.settings.freshWithinMs() - 1);
    assertThat(live.slices).as("withheld, not delivered stale").isEmpty();
    assertThat(h.db.primaryReads).isEmpty();
    h.scheduler.advance(2);
    assertThat(h.db.primaryReads).containsExactly(List.of("r1"));
    assertThat(live.lastMetadata()).containsExactly("v1");
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "primary")).isEqualTo(1);
    assertThat(h.counter("freshet.primary.fallback.reads", "kind", "runs")).isEqualTo(1);
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "gave_up")).isZero();
  }

  @Test
  void aRowReadFromThePrimaryIsNeverFollowedByAnOlderOneFromTheReplica() {
    RouterHarness h = harness(new JsonObject());
    RouterHarness.Replies live = follow(h);
    long commit = h.clock();
    h.commit("r1", commit, "v1");
    h.record("r1", commit);
    h.scheduler.advance(h.settings.freshWithinMs() + 5);
    assertThat(live.lastMetadata()).containsExactly("v1");
    RouterHarness.Replies next = new RouterHarness.Replies();
    h.poll(h.lastHandle, live.last().to(), true, next);
    h.db.rows.put("r1", RouterHarness.row("r1", commit - 1, List.of(), null, "v0.9", 0)); // the replica, still behind
    h.record("r1", commit - 1); // a late record for an older change
    h.scheduler.advance(h.settings.livePollTimeoutMs() + 100); // and the backstop reads the replica too
    assertThat(next.slices).allSatisfy(s -> assertThat(s.messages()).as("nothing older than v1").isEmpty());
  }

  @Test
  void whenTheBudgetIsSpentTheRowIsLeftAsTheReplicaHasItAndRecoveredWhenTheReplicaMoves() {
    RouterHarness h = harness(new JsonObject().put("gate.primaryFallbackPerSec", 1));
    h.lag.lagMs = 100;
    long old = h.clock() - 60_000;
    Map<String, String> handles = new HashMap<>();
    for (String run : List.of("a", "b")) {
      h.apply(run, old, run + "0");
      handles.put(run, h.open(runFilter(run), new RouterHarness.Replies()));
    }
    h.scheduler.advance(3000);
    Map<String, RouterHarness.Replies> live = new HashMap<>();
    handles.forEach((run, handle) -> {
      RouterHarness.Replies poll = new RouterHarness.Replies();
      h.poll(handle, 1, true, poll);
      live.put(run, poll);
    });
    long commit = h.clock();
    for (String run : List.of("a", "b")) {
      h.commit(run, commit, run + "1"); // the replica's replay is paused
      h.record(run, commit);
    }
    h.scheduler.advance(h.settings.freshWithinMs() + 50);
    assertThat(h.counter("freshet.primary.fallback.refused", "kind", "runs")).as("one read a second: the second is refused").isEqualTo(1);
    assertThat(h.db.primaryReads).hasSize(1);
    String served = h.db.primaryReads.get(0).get(0);
    String refused = served.equals("a") ? "b" : "a";
    assertThat(live.get(served).lastMetadata()).containsExactly(served + "1");
    assertThat(live.get(refused).slices).as("nothing newer than what the client has: the replica's row").isEmpty();
    assertThat(h.feeds.watchedRuns()).isEqualTo(1);
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "gave_up")).isEqualTo(1);

    h.apply(refused, commit, refused + "1");
    h.db.replayedAtMs = commit;
    h.lag.progress(commit); // the replica resumed
    h.scheduler.advance(1);
    assertThat(live.get(refused).lastMetadata()).containsExactly(refused + "1");
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "stall_recovered")).isEqualTo(1);
    assertThat(h.feeds.watchedRuns()).isZero();
  }

  @Test
  void aWatchedRunIsNotReadAgainWhileTheReplicaDoesNotMove() {
    RouterHarness h = harness(new JsonObject().put("gate.primaryFallbackPerSec", 0).put("gate.staleRetries", 1));
    follow(h);
    long commit = h.clock();
    h.commit("r1", commit, "v1");
    h.record("r1", commit);
    h.scheduler.advance(2000);
    assertThat(h.feeds.watchedRuns()).isEqualTo(1);
    int reads = h.db.hydrates.size();
    h.lag.progress(h.db.replayedAtMs); // the same position again: nothing moved
    h.scheduler.advance(1);
    assertThat(h.db.hydrates).hasSize(reads);
    h.lag.progress(commit - 5); // moved, but not yet as far as the change
    h.scheduler.advance(1);
    assertThat(h.db.hydrates).hasSize(reads);
    h.lag.progress(commit);
    h.scheduler.advance(1);
    assertThat(h.db.hydrates).hasSize(reads + 1);
  }

  @Test
  void watchedRunsAreBoundedPerEnvironmentAndTheDropIsCounted() {
    RouterHarness h = harness(new JsonObject().put("gate.primaryFallbackPerSec", 0).put("gate.staleRetries", 0)
        .put("gate.maxWatchedRunsPerEnv", 2));
    long old = h.clock() - 60_000;
    for (String run : List.of("a", "b", "c")) {
      h.apply(run, old, run + "0");
      h.open(runFilter(run), new RouterHarness.Replies());
    }
    long commit = h.clock();
    for (String run : List.of("a", "b", "c")) {
      h.commit(run, commit, run + "1");
      h.record(run, commit);
      h.scheduler.advance(200);
    }
    assertThat(h.feeds.watchedRuns()).isEqualTo(2);
    assertThat(h.counter("freshet.stalled.runs.dropped", "bound", "watched")).isEqualTo(1);
  }

  @Test
  void withTheReplicaDownChangesAndSnapshotsAreServedFromThePrimaryAndReadsReturnWhenItIsBack() {
    RouterHarness h = harness(new JsonObject());
    RouterHarness.Replies live = follow(h);
    h.db.replicaDown = true;
    long commit = h.clock();
    h.commit("r1", commit, "v1");
    h.record("r1", commit);
    h.scheduler.advance(h.settings.freshWithinMs() + 5);
    assertThat(live.lastMetadata()).containsExactly("v1");
    h.commit("r2", commit, "other");
    RouterHarness.Replies snapshot = new RouterHarness.Replies();
    h.open(runFilter("r2"), snapshot);
    assertThat(snapshot.failures).isEmpty();
    assertThat(snapshot.lastMetadata()).as("a snapshot while the replica is down").containsExactly("other");
    h.db.replicaDown = false;
    h.db.primaryReads.clear();
    RouterHarness.Replies next = new RouterHarness.Replies();
    h.poll(h.lastHandle, live.last().to(), true, next);
    long later = h.clock();
    h.apply("r1", later, "v2");
    h.record("r1", later);
    h.scheduler.advance(50);
    assertThat(next.lastMetadata()).containsExactly("v2");
    assertThat(h.db.primaryReads).as("back on the replica").isEmpty();
  }

  @Test
  void theFirstChangeAfterAQuietSpellIsReadOnceAtTheMeasuredLag() {
    RouterHarness h = harness(new JsonObject().put("gate.primaryFallbackPerSec", 0));
    h.lag.lagMs = 300; // the heartbeat measures the standby's apply delay, quiet or not
    RouterHarness.Replies live = follow(h);
    RouterHarness.Replies next = live;
    for (int i = 0; i < 9; i++) { // three quiet minutes, a client polling; the replica's last replayed commit is long ago
      h.scheduler.advance(20_000);
      next = new RouterHarness.Replies();
      h.poll(h.lastHandle, 1, true, next);
    }
    h.scheduler.advance(2); // the backstop read the last hold's end started
    h.db.hydrates.clear();
    long commit = h.clock();
    h.commit("r1", commit, "v1");
    h.record("r1", commit);
    h.scheduler.advance(299);
    h.apply("r1", commit, "v1"); // applied at +300
    h.scheduler.advance(20);
    assertThat(next.lastMetadata()).containsExactly("v1");
    assertThat(h.db.hydrateTimes.subList(h.db.hydrateTimes.size() - h.db.hydrates.size(), h.db.hydrateTimes.size()))
        .as("one read, at commit + lag + margin").containsExactly(commit + 310);
    var lag = h.registry.find("freshet.delivery.lag").summary();
    assertThat(lag.max()).isEqualTo(310.0);
  }

  @Test
  void theDeliveryLagStartsAtTheOldestChangeTheDeliveryCarries() {
    RouterHarness h = harness(new JsonObject().put("gate.primaryFallbackPerSec", 0));
    h.lag.lagMs = 0;
    RouterHarness.Replies live = follow(h);
    long first = h.clock();
    h.commit("r1", first, "v1");
    h.record("r1", first);
    h.scheduler.advance(100); // stale reads: the replica has not applied it yet
    long second = h.clock();
    h.commit("r1", second, "v2");
    h.record("r1", second);
    h.apply("r1", second, "v2"); // both applied now; one read delivers v2
    h.scheduler.advance(200);
    assertThat(live.lastMetadata()).containsExactly("v2");
    var lag = h.registry.find("freshet.delivery.lag").summary();
    assertThat(lag.count()).isEqualTo(1);
    assertThat(lag.max()).as("from the first change's commit, not the second's").isGreaterThanOrEqualTo(100.0);
  }
}
