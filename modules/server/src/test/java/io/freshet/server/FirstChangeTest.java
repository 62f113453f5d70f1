package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The first change a fresh node delivers, the moment users look most (trigger a task, watch it
 * start), against the real standby 300 ms behind: the heartbeat measures the standby from the
 * node's first second, the change arrives with its content, and the server's delivery-lag metric
 * tells what the client saw (the figures are printed; the benchmark judges them). The fake-clock version (three
 * quiet minutes) is {@code FreshnessTest.theFirstChangeAfterAQuietSpellIsReadOnceAtTheMeasuredLag}.
 */
@RigTest
class FirstChangeTest {

  private static final long APPLY_DELAY_MS = 300;
  private static NodeFixture node;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    node = NodeFixture.start(NodeFixture.gateOnly(new JsonObject()));
  }

  @AfterAll
  static void stop() {
    node.close();
    NodeFixture.applyDelay(150);
  }

  @Test
  void theFirstChangeOnAFreshNodeArrivesFreshAndTheDeliveryLagMetricMatchesTheClient() {
    String runId = node.http.trigger("first", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, true).streamingReady()) {
      double retries = node.metric("freshet_hydrate_queries_total{reason=\"retry\"");
      double deliveries = node.metric("freshet_delivery_lag_milliseconds_count");
      double lagSum = node.metric("freshet_delivery_lag_milliseconds_sum");
      long sent = System.currentTimeMillis();
      node.http.setMetadata(runId, new JsonObject().put("step", 1));
      FeedFollower.Delivery d = feed.await(x -> x.metadata() != null && x.metadata().getInteger("step") == 1);
      assertThat(d).isNotNull();
      double serverMs = node.metric("freshet_delivery_lag_milliseconds_sum") - lagSum;
      System.out.println("first change on a fresh node: " + (d.atMs() - sent) + " ms from the write's request to the client;"
          + " server-side delivery lag " + serverMs + " ms; estimate " + node.http.get("/health").json().getLong("lagMs") + " ms; retries "
          + (node.metric("freshet_hydrate_queries_total{reason=\"retry\"") - retries) + " (timings are the benchmark's to judge)");
      assertThat(node.http.get("/health").json().getString("lagSource")).as("measured mid-apply from the start").isEqualTo("heartbeat");
      assertThat(node.metric("freshet_delivery_lag_milliseconds_count")).isEqualTo(deliveries + 1);
      assertThat(serverMs).as("the metric starts at the commit: never before the replica could apply it").isGreaterThanOrEqualTo(APPLY_DELAY_MS);
      assertThat((double) d.atMs() - sent).as("the client sees it after the server delivered it").isGreaterThanOrEqualTo(serverMs - 5);
    }
  }
}
