package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fresh content while the standby stalls, against the real primary and standby: its replay paused
 * ({@code pg_wal_replay_pause()}), or the standby server stopped. Backstops are pushed out of the
 * way ({@code router.livePollTimeoutMs} of two minutes), so every delivery here comes from the gate,
 * the fallback or the watch. Checks are about order and content; the timings are printed (the
 * benchmark's stall phase reports them against their targets).
 */
@RigTest
class StallRecoveryTest {

  private static final long APPLY_DELAY_MS = 150;
  private static final JsonObject NO_BACKSTOP = new JsonObject().put("router.livePollTimeoutMs", 120_000);
  private static NodeFixture fallback;
  private static NodeFixture noFallback;
  private static NodeFixture smallBudget;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    fallback = NodeFixture.start(NodeFixture.gateOnly(NO_BACKSTOP));
    noFallback = NodeFixture.join(fallback, NodeFixture.gateOnly(NO_BACKSTOP).put("gate.primaryFallbackPerSec", 0));
    smallBudget = NodeFixture.join(fallback, NodeFixture.gateOnly(NO_BACKSTOP).put("gate.primaryFallbackPerSec", 2));
  }

  @AfterAll
  static void stop() {
    smallBudget.close();
    noFallback.close();
    fallback.close();
  }

  @AfterEach
  void replicaBackToNormal() {
    PgRig.startReplica();
    PgRig.resumeReplay();
  }

  /** Waits until the node's metric reaches {@code atLeast} (the server's own signal). */
  private static void awaitMetric(NodeFixture node, String prefix, double atLeast) {
    node.awaitMetric(prefix, n -> n >= atLeast, prefix + " to reach " + atLeast);
  }

  private static void assertNeverBackwards(List<FeedFollower.Delivery> deliveries) {
    List<Integer> steps = deliveries.stream().map(Steps::of).toList();
    assertThat(steps).as("a feed never moves backwards").isSorted();
  }

  private static String summary(List<Long> latencies) {
    List<Long> known = latencies.stream().filter(l -> l != null).sorted().toList();
    return known.isEmpty() ? "none" : "p50 " + known.get(known.size() / 2) + " ms, max " + known.get(known.size() - 1) + " ms";
  }

  @Test
  void withTheFallbackEveryChangeReachesItsSubscriberWhileTheReplayIsPausedAndNothingIsStale() {
    String runId = fallback.http.trigger("stall", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    fallback.db.awaitReplicaCaughtUp();
    double gaveUp = fallback.metric("freshet_stale_hydrates_total{outcome=\"gave_up\"");
    double settledByPrimary = fallback.metric("freshet_stale_hydrates_total{outcome=\"primary\"");
    double primaryReads = fallback.metric("freshet_primary_fallback_reads_total");
    try (FeedFollower feed = new FeedFollower(fallback.http, "/realtime/v1/runs/" + runId, true).streamingReady()) {
      PgRig.pauseReplay();
      assertThat(fallback.http.get("/health").json().getString("replica")).isEqualTo("paused");
      TreeMap<Integer, Long> committed = Steps.write(fallback.http, runId, 1, 150, 200); // 30 s of changes while paused
      FeedFollower.Delivery last = feed.await(d -> Integer.valueOf(150).equals(Steps.of(d)));
      assertThat(last).as("the final value arrives while the replica is still paused").isNotNull();
      List<FeedFollower.Delivery> deliveries = feed.of(runId);
      List<Long> latencies = Steps.coverage(deliveries, committed);
      double reads = fallback.metric("freshet_primary_fallback_reads_total") - primaryReads;
      System.out.println("stall with the fallback: each change reached the subscriber " + summary(latencies)
          + " after its write (gate.freshWithinMs 1000); primary reads " + reads + " for 150 changes");
      assertThat(latencies).as("every change is covered during the pause").doesNotContainNull();
      assertNeverBackwards(deliveries);
      assertThat(fallback.metric("freshet_stale_hydrates_total{outcome=\"gave_up\"")).as("nothing delivered stale").isEqualTo(gaveUp);
      assertThat(fallback.metric("freshet_stale_hydrates_total{outcome=\"primary\"")).as("settled by the primary")
          .isGreaterThan(settledByPrimary);
      // The replica served none of the 150 changes (its replay is paused). A primary read settles every
      // change the run had pending, so there are usually far fewer reads than changes; never more.
      assertThat(reads).as("at most one primary read per change the replica could not serve").isPositive().isLessThanOrEqualTo(150);
    }
  }

  @Test
  void withTheFallbackOffTheFinalValueArrivesOnceTheReplayResumesWithoutABackstop() {
    String runId = noFallback.http.trigger("stall", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    noFallback.db.awaitReplicaCaughtUp();
    double recovered = noFallback.metric("freshet_stale_hydrates_total{outcome=\"stall_recovered\"");
    try (FeedFollower feed = new FeedFollower(noFallback.http, "/realtime/v1/runs/" + runId, true).streamingReady()) {
      PgRig.pauseReplay();
      Steps.write(noFallback.http, runId, 1, 10, 200);
      awaitMetric(noFallback, "freshet_stalled_runs", 1); // past the retries: given up on, watched
      assertThat(feed.of(runId).stream().map(Steps::of)).as("nothing newer is readable yet").doesNotContain(10);
      long resumed = System.currentTimeMillis();
      PgRig.resumeReplay();
      FeedFollower.Delivery last = feed.await(d -> Integer.valueOf(10).equals(Steps.of(d)));
      assertThat(last).as("the watch delivers the final value (the backstop is two minutes away)").isNotNull();
      System.out.println("stall without the fallback: the final value arrived " + (last.atMs() - resumed) + " ms after the resume");
      assertNeverBackwards(feed.of(runId));
      assertThat(noFallback.metric("freshet_stale_hydrates_total{outcome=\"stall_recovered\"")).isGreaterThan(recovered);
    }
  }

  @Test
  void aStoppedStandbyKeepsFeedsOpenAndFreshThroughThePrimaryAndReadsReturnToItWhenItIsBack() {
    String runId = fallback.http.trigger("down", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    fallback.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(fallback.http, "/realtime/v1/runs/" + runId, true).streamingReady()) {
      PgRig.stopReplica();
      Http.Response health = fallback.http.get("/health");
      assertThat(health.status()).as("the node stays in rotation: feeds serve through the fallback").isEqualTo(200);
      assertThat(health.json().getString("replica")).isEqualTo("unreachable");
      TreeMap<Integer, Long> committed = Steps.write(fallback.http, runId, 1, 20, 500); // 10 s without a standby
      assertThat(feed.await(d -> Integer.valueOf(20).equals(Steps.of(d)))).as("served through the fallback").isNotNull();
      System.out.println("standby down: " + summary(Steps.coverage(feed.of(runId), committed)));
      PgRig.startReplica();
      fallback.db.awaitReplicaCaughtUp();
      double primaryBefore = fallback.metric("freshet_primary_fallback_reads_total");
      Steps.write(fallback.http, runId, 21, 25, 300);
      assertThat(feed.await(d -> Integer.valueOf(25).equals(Steps.of(d)))).isNotNull();
      assertThat(fallback.metric("freshet_primary_fallback_reads_total")).as("back on the replica").isEqualTo(primaryBefore);
      assertNeverBackwards(feed.of(runId));
    }
  }

  @Test
  void whenTheBudgetIsSpentRowsAreDeliveredAsTheReplicaHasThemAndRecoveredAfterTheResume() {
    List<String> runs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      runs.add(smallBudget.http.trigger("budget", new JsonObject().put("tags", new io.vertx.core.json.JsonArray().add("budget-" + i % 1))
          .put("metadata", new JsonObject().put("step", 0))));
    }
    smallBudget.db.awaitReplicaCaughtUp();
    double refused = smallBudget.metric("freshet_primary_fallback_refused_total");
    try (FeedFollower feed = new FeedFollower(smallBudget.http, "/realtime/v1/runs?tags=budget-0", true).streamingReady()) {
      PgRig.pauseReplay();
      for (String run : runs) {
        smallBudget.http.setMetadata(run, new JsonObject().put("step", 1));
      }
      awaitMetric(smallBudget, "freshet_primary_fallback_refused_total", refused + 1); // 2 reads a second for 10 changes
      PgRig.resumeReplay();
      for (String run : runs) {
        assertThat(feed.await(d -> run.equals(d.runId()) && Integer.valueOf(1).equals(Steps.of(d))))
            .as("run %s recovers after the resume", run).isNotNull();
      }
    }
  }

  @Test
  void triggeredThenSubscribedAtOnceEverySnapshotCarriesTheRun() {
    NodeFixture.applyDelay(300);
    try {
      for (int n = 0; n < 50; n++) {
        int i = n;
        String runId = fallback.http.trigger("race", new JsonObject().put("metadata", new JsonObject().put("i", i)));
        Http.Response snapshot = fallback.http.get("/realtime/v1/runs/" + runId + "?offset=-1");
        assertThat(snapshot.status()).isEqualTo(200);
        io.vertx.core.json.JsonArray messages = new io.vertx.core.json.JsonArray(snapshot.body());
        assertThat(messages.stream().map(JsonObject.class::cast).filter(m -> m.containsKey("key")).toList())
            .as("snapshot %d carries the run", i).singleElement()
            .satisfies(m -> assertThat(new JsonObject(m.getJsonObject("value").getString("metadata")).getInteger("i")).isEqualTo(i));
      }
    } finally {
      NodeFixture.applyDelay(APPLY_DELAY_MS);
    }
  }
}
