package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.Await;
import io.freshet.store.testing.PgRig;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed's headline, against the real primary and a standby that applies every commit late:
 * without the gate a subscriber is one change behind and the last change strands; with it every
 * delivery carries the change that woke it, and the last one arrives right after the apply delay.
 * Each write waits for the server's signal (a delivery, the standby's replay position) before the
 * next; only the burst paces its writer on the clock.
 */
@RigTest
class ReadYourWritesTest {

  private static final long APPLY_DELAY_MS = 150;
  private static NodeFixture gated;
  private static NodeFixture ungated;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    gated = NodeFixture.start(NodeFixture.gateOnly(new JsonObject()));
    ungated = NodeFixture.join(gated, new JsonObject().put("gate.mode", "ungated"));
  }

  @AfterEach
  void replayBackToNormal() {
    PgRig.resumeReplay();
  }

  @AfterAll
  static void stop() {
    ungated.close();
    gated.close();
  }

  /**
   * Writes steps 1..n, each once the subscriber has received the one before (the gate delivers
   * every change with its own content), and returns each write's commit time (ms).
   */
  private static List<Long> writeStepsEachDelivered(Http http, FeedFollower feed, String runId, int steps) {
    List<Long> committedAt = new ArrayList<>();
    for (int step = 1; step <= steps; step++) {
      http.setMetadata(runId, new JsonObject().put("step", step));
      committedAt.add(System.currentTimeMillis());
      int written = step;
      assertThat(feed.await(d -> runId.equals(d.runId()) && Integer.valueOf(written).equals(d.metadata().getInteger("step"))))
          .as("step %d delivered with its own content, without a backstop", step).isNotNull();
    }
    return committedAt;
  }

  private static List<Integer> steps(List<FeedFollower.Delivery> deliveries) {
    return deliveries.stream().map(d -> d.metadata().getInteger("step")).toList();
  }

  @Test
  void withoutTheGateASubscriberReceivesContentOneChangeBehindAndTheLastChangeStrands() {
    String runId = ungated.http.trigger("headline", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    gated.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(ungated.http, "/realtime/v1/runs/" + runId, false).ready()) {
      // Step 1 reaches the standby without waking the node (written on the primary without a change
      // record), so that the next write's read finds a row the subscriber has not seen.
      Await.result(ungated.db.primary().preparedQuery("UPDATE task_runs SET metadata = $1,"
          + " updated_at = GREATEST(now() AT TIME ZONE 'utc', updated_at + interval '1 millisecond') WHERE friendly_id = $2")
          .execute(Tuple.of("{\"step\":1}", runId)), 10);
      ungated.db.awaitReplicaCaughtUp();
      for (int step = 2; step <= 4; step++) {
        // The standby holds each write back until the node has read for it and delivered what it
        // found, so every read is certainly early (on a lagging standby, the race the node usually loses).
        PgRig.pauseReplay();
        ungated.http.setMetadata(runId, new JsonObject().put("step", step));
        int behind = step - 1;
        assertThat(feed.await(d -> runId.equals(d.runId()) && Integer.valueOf(behind).equals(d.metadata().getInteger("step"))))
            .as("the write of step %d delivers step %d", step, behind).isNotNull();
        PgRig.resumeReplay();
        ungated.db.awaitReplicaCaughtUp();
      }
      // The replica has step 4 now, but no record is left to wake the feed: only the backstop (20 s) would.
      List<Integer> seen = steps(feed.of(runId));
      assertThat(seen).as("each write delivered the change before it").containsExactly(0, 1, 2, 3);
      assertThat(seen).as("the last change is stranded until the backstop").doesNotContain(4);
    }
  }

  @Test
  void withTheGateEveryDeliveryCarriesTheChangeThatWokeItAndTheLastArrivesAfterTheApplyDelay() {
    String runId = gated.http.trigger("headline", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    gated.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(gated.http, "/realtime/v1/runs/" + runId, false).ready()) {
      List<Long> committed = writeStepsEachDelivered(gated.http, feed, runId, 4);
      List<FeedFollower.Delivery> deliveries = feed.of(runId);
      assertThat(steps(deliveries)).as("each write woke exactly one delivery of its own content").containsExactly(0, 1, 2, 3, 4);
      for (int step = 1; step <= 4; step++) {
        long arrived = deliveries.get(step).atMs();
        assertThat(arrived - committed.get(step - 1)).as("step %d: not before the replica could have applied it", step)
            .isGreaterThanOrEqualTo(APPLY_DELAY_MS - 60);
      }
    }
  }

  @Test
  void aRunWhoseMetadataChangesEvery50MsUnder300MsOfLagDeliversOnlyCurrentContentEndingWithTheFinalValue() {
    NodeFixture.applyDelay(300);
    try {
      String runId = gated.http.trigger("burst", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
      gated.db.awaitReplicaCaughtUp();
      try (FeedFollower feed = new FeedFollower(gated.http, "/realtime/v1/runs/" + runId, false).ready()) {
        // A writer changes the run every 50 ms (pacing, not a wait) until the subscriber has received one
        // of its changes, then 20 more times. The gate waits on the oldest change, so changes flow
        // during the burst; a gate that waited for the writes to stop would let none through, and the
        // burst would run into its guard (a hang guard of Await's length, not a speed claim).
        long guard = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Await.UNTIL_TIMEOUT_MS);
        int step = 0;
        int afterFirstDelivery = -1;
        while (afterFirstDelivery < 20) {
          assertThat(System.nanoTime()).as("a change delivered while the writes go on (%d written)", step).isLessThan(guard);
          gated.http.setMetadata(runId, new JsonObject().put("step", ++step));
          if (afterFirstDelivery >= 0 || steps(feed.of(runId)).stream().anyMatch(s -> s > 0)) {
            afterFirstDelivery++;
          }
          FeedFollower.sleep(50);
        }
        int steps = step;
        FeedFollower.Delivery last = feed.await(d -> runId.equals(d.runId()) && d.metadata().getInteger("step") == steps);
        assertThat(last).as("the final value arrives").isNotNull();
        List<Integer> seen = steps(feed.of(runId));
        assertThat(seen).as("content only moves forward, never repeats").isSorted().doesNotHaveDuplicates();
        assertThat(seen.get(seen.size() - 1)).isEqualTo(steps);
      }
    } finally {
      NodeFixture.applyDelay(APPLY_DELAY_MS);
    }
  }

  @Test
  void theSseLiveModeDeliversTheSameCurrentContent() {
    String runId = gated.http.trigger("sse", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    gated.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(gated.http, "/realtime/v1/runs/" + runId, true).ready()) {
      writeStepsEachDelivered(gated.http, feed, runId, 3);
      assertThat(steps(feed.of(runId))).as("each change once, with its own content").containsExactly(0, 1, 2, 3);
    }
  }

  @Test
  void healthReportsTheNodeAndItsPrimary() {
    Http.Response health = gated.http.withKey(null).get("/health");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().getString("status")).isEqualTo("ok");
    assertThat(health.json().getString("node")).isEqualTo(gated.node.nodeId());
  }

  @Test
  void metricsExposeTheGate() {
    Http.Response metrics = gated.http.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("freshet_replica_lag_estimate_milliseconds", "freshet_delivery_lag_milliseconds",
        "freshet_hydrate_queries_total{reason=\"retry\"", "freshet_stale_hydrates_total{outcome=\"gave_up\"", "freshet_held_feeds");
  }
}
