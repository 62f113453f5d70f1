package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.ScratchRig;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads routed over three real standbys at 50, 150 and 1,000 ms ({@code db.replica.uris}), on a
 * rig of their own: the gated reads go to the fastest; pausing it moves them to the next with no
 * stale row; with the two fast ones stopped, changes still arrive within {@code gate.freshWithinMs}
 * (the slow one or the fallback); brought back, they get the reads again. Every change goes through
 * the gate here (records without rows), and the backstop is two minutes away, so each delivery is
 * a routed read. Checks are about content, order and where reads went; the timings are printed.
 */
@RigTest
class SeveralReplicasTest {

  private static final JsonObject GATED = NodeFixture.gateOnly(new JsonObject().put("router.livePollTimeoutMs", 120_000));
  private static ScratchRig rig;
  private static NodeFixture node;

  @BeforeAll
  static void start() {
    rig = new ScratchRig("pg-replicas", 15462, 50, 150, 1000).start();
    node = NodeFixture.onRig(rig.primaryUri(), rig.replicaUris(), GATED);
  }

  @AfterAll
  static void stop() {
    try {
      if (node != null) {
        node.close();
      }
    } finally {
      rig.close();
    }
  }

  private static long median(List<Long> latencies) {
    List<Long> sorted = latencies.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static String summary(List<Long> latencies) {
    List<Long> sorted = latencies.stream().sorted().toList();
    return "p50 " + sorted.get(sorted.size() / 2) + " ms, max " + sorted.get(sorted.size() - 1) + " ms";
  }

  private static double[] reads() {
    double[] r = new double[3];
    for (int i = 0; i < 3; i++) {
      r[i] = node.metric("freshet_replica_reads_total{kind=\"runs\",replica=\"" + (i + 1) + "\"");
    }
    return r;
  }

  private static double[] since(double[] before) {
    double[] now = reads();
    return new double[] {now[0] - before[0], now[1] - before[1], now[2] - before[2]};
  }

  private static void awaitRotation(int replica, int in) {
    node.awaitMetric("freshet_replica_in_rotation{replica=\"" + replica + "\"", v -> v == in,
        "replica " + replica + (in == 1 ? " in" : " out of") + " rotation");
  }

  private static void checkEveryStep(FeedFollower feed, String runId, TreeMap<Integer, Long> committed, String phase) {
    int last = committed.lastKey();
    assertThat(feed.await(d -> Integer.valueOf(last).equals(Steps.of(d)))).as(phase + ": the final value arrives").isNotNull();
    List<Long> latencies = Steps.coverage(feed.of(runId), committed);
    assertThat(latencies).as(phase + ": every change is delivered").doesNotContainNull();
    assertThat(feed.of(runId).stream().map(Steps::of).toList()).as(phase + ": never backwards").isSorted();
    System.out.println("several replicas, " + phase + ": write to delivery " + summary(latencies));
  }

  @Test
  void readsGoToTheFastestStandbyMoveWhenItStallsAndComeBack() {
    for (int r = 1; r <= 3; r++) {
      awaitRotation(r, 1);
    }
    String runId = node.http.trigger("replicas", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    double gaveUp = node.metric("freshet_stale_hydrates_total{outcome=\"gave_up\"");
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, true).streamingReady()) {
      FeedFollower.sleep(1500); // the slowest standby has the run too

      // 1. All three up: the gate waits on the 50 ms standby and the reads go there.
      double[] before = reads();
      TreeMap<Integer, Long> committed = Steps.write(node.http, runId, 1, 40, 100);
      checkEveryStep(feed, runId, committed, "three standbys");
      double[] went = since(before);
      System.out.printf("  reads per standby (50/150/1000 ms): %.0f / %.0f / %.0f%n", went[0], went[1], went[2]);
      assertThat(went[0]).as("the 50 ms standby serves the gated reads").isGreaterThan(3 * (went[1] + went[2]));
      assertThat(median(Steps.coverage(feed.of(runId), committed))).as("not waiting on the 150 ms standby").isLessThan(150);

      // 2. The 50 ms standby's replay paused: reads move to the 150 ms one, and no stale row is delivered.
      rig.replica(1, "pause");
      before = reads();
      committed = Steps.write(node.http, runId, 41, 80, 100);
      checkEveryStep(feed, runId, committed, "50 ms standby paused");
      went = since(before);
      System.out.printf("  reads per standby (50 paused/150/1000 ms): %.0f / %.0f / %.0f%n", went[0], went[1], went[2]);
      assertThat(went[1]).as("the 150 ms standby takes the reads").isGreaterThan(went[0] + went[2]);
      awaitRotation(1, 0);

      // 3. The two fast ones stopped: the 1,000 ms one or the primary fallback, within gate.freshWithinMs.
      rig.replica(1, "resume");
      rig.replica(1, "stop");
      rig.replica(2, "stop");
      awaitRotation(2, 0);
      io.vertx.core.json.JsonArray listed = node.http.get("/health").json().getJsonArray("replicas");
      assertThat(listed.stream().map(r -> ((JsonObject) r).getBoolean("inRotation")).toList()).as("/health lists each replica")
          .containsExactly(false, false, true);
      double primary = node.metric("freshet_primary_fallback_reads_total");
      before = reads();
      committed = Steps.write(node.http, runId, 81, 95, 300);
      checkEveryStep(feed, runId, committed, "50 and 150 ms standbys stopped");
      went = since(before);
      System.out.printf("  reads per standby (stopped/stopped/1000 ms): %.0f / %.0f / %.0f, primary fallback reads %.0f%n",
          went[0], went[1], went[2], node.metric("freshet_primary_fallback_reads_total") - primary);
      assertThat(went[0] + went[1]).as("no read goes to a stopped standby").isZero();
      assertThat(Steps.coverage(feed.of(runId), committed)).as("each change within gate.freshWithinMs (1,000 ms) and a read")
          .allMatch(ms -> ms < 2000);

      // 4. Back: the reads return to the 50 ms standby once it has caught up.
      rig.replica(1, "start");
      rig.replica(2, "start");
      awaitRotation(1, 1);
      awaitRotation(2, 1);
      FeedFollower.sleep(1000);
      before = reads();
      committed = Steps.write(node.http, runId, 96, 125, 100);
      checkEveryStep(feed, runId, committed, "all back");
      went = since(before);
      System.out.printf("  reads per standby after they are back: %.0f / %.0f / %.0f%n", went[0], went[1], went[2]);
      assertThat(went[0]).as("the reads are back on the 50 ms standby").isGreaterThan(went[1] + went[2]);
    }
    assertThat(node.metric("freshet_stale_hydrates_total{outcome=\"gave_up\"")).as("nothing delivered stale").isEqualTo(gaveUp);
    assertThat(node.metric("freshet_replica_rotation_moves_total{replica=\"1\",to=\"out\"")).isGreaterThanOrEqualTo(1);
    assertThat(node.metric("freshet_replica_rotation_moves_total{replica=\"1\",to=\"in\"")).isGreaterThanOrEqualTo(1);
  }
}
