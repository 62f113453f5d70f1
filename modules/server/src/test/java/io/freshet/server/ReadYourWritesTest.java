package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed's headline, against the real primary and a standby that applies every commit late:
 * without the gate a subscriber is one change behind and the last change strands; with it every
 * delivery carries the change that woke it, and the last one arrives right after the apply delay.
 */
@RigTest
class ReadYourWritesTest {

  private static final long APPLY_DELAY_MS = 150;
  private static NodeFixture gated;
  private static NodeFixture ungated;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    gated = NodeFixture.start(new JsonObject());
    ungated = NodeFixture.join(gated, new JsonObject().put("gate.mode", "ungated"));
  }

  @AfterAll
  static void stop() {
    ungated.close();
    gated.close();
  }

  /** Writes steps 1..n every {@code gapMs} and returns each write's commit time (ms). */
  private static List<Long> writeSteps(Http http, String runId, int steps, long gapMs) {
    List<Long> committedAt = new ArrayList<>();
    for (int step = 1; step <= steps; step++) {
      http.setMetadata(runId, new JsonObject().put("step", step));
      committedAt.add(System.currentTimeMillis());
      FeedFollower.sleep(gapMs);
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
      writeSteps(ungated.http, runId, 4, 2 * APPLY_DELAY_MS + 100);
      // The fourth write's wake read the replica before it applied that write: it delivered step 3.
      assertThat(feed.await(d -> runId.equals(d.runId()) && Integer.valueOf(3).equals(d.metadata().getInteger("step")), 5_000)).isNotNull();
      ungated.db.awaitReplicaCaughtUp();
      // The replica has step 4 now, but no record is left to wake the feed: only the backstop (20 s) would.
      List<Integer> seen = steps(feed.of(runId));
      assertThat(seen).containsSubsequence(0, 1, 2, 3);
      assertThat(seen).as("the last change is stranded until the backstop").doesNotContain(4);
    }
  }

  @Test
  void withTheGateEveryDeliveryCarriesTheChangeThatWokeItAndTheLastArrivesAfterTheApplyDelay() {
    String runId = gated.http.trigger("headline", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    gated.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(gated.http, "/realtime/v1/runs/" + runId, false).ready()) {
      List<Long> committed = writeSteps(gated.http, runId, 4, 2 * APPLY_DELAY_MS + 100);
      FeedFollower.Delivery last = feed.await(d -> runId.equals(d.runId()) && d.metadata().getInteger("step") == 4, 10_000);
      assertThat(last).as("the final change arrives, without a backstop").isNotNull();
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
        int steps = 30;
        List<Long> committed = writeSteps(gated.http, runId, steps, 50);
        FeedFollower.Delivery last = feed.await(d -> runId.equals(d.runId()) && d.metadata().getInteger("step") == steps, 10_000);
        assertThat(last).as("the final value arrives").isNotNull();
        List<FeedFollower.Delivery> deliveries = feed.of(runId);
        List<Integer> seen = steps(deliveries);
        assertThat(seen).as("content only moves forward, never repeats").isSorted().doesNotHaveDuplicates();
        assertThat(seen.get(seen.size() - 1)).isEqualTo(steps);
        assertThat(deliveries.stream().filter(d -> d.atMs() < committed.get(steps - 1)).map(FeedFollower.Delivery::metadata)
            .filter(m -> m.getInteger("step") > 0).count())
            .as("changes flow during the burst (gated on the oldest change), not only after its end").isPositive();
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
      writeSteps(gated.http, runId, 3, 2 * APPLY_DELAY_MS + 100);
      FeedFollower.Delivery last = feed.await(d -> runId.equals(d.runId()) && d.metadata().getInteger("step") == 3, 10_000);
      assertThat(last).isNotNull();
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
