package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes joined through Hazelcast on 127.0.0.1 (TCP members, no multicast) behind an
 * imaginary non-sticky load balancer: writes on one reach feeds on the other, and a poll that
 * lands on the node that does not own the feed is forwarded to the owner.
 */
@RigTest
class ClusterTest {

  private static NodeFixture a;
  private static NodeFixture b;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    String name = "freshet-test-" + UUID.randomUUID();
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", name)
        .put("cluster.members", "127.0.0.1:5811,127.0.0.1:5812");
    a = NodeFixture.start(cluster.copy().put("cluster.port", 5811));
    b = NodeFixture.join(a, cluster.copy().put("cluster.port", 5812));
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  @Test
  void aWriteThroughNodeAReachesASubscriberOnNodeBWithCurrentContent() {
    String runId = a.http.trigger("cluster", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    a.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(b.http, "/realtime/v1/runs/" + runId, false).ready()) {
      for (int step = 1; step <= 3; step++) {
        a.http.setMetadata(runId, new JsonObject().put("step", step));
        int expected = step;
        FeedFollower.Delivery d = feed.await(x -> x.metadata() != null && x.metadata().getInteger("step") == expected);
        assertThat(d).as("step %d reaches node B", step).isNotNull();
      }
      assertThat(feed.of(runId).stream().map(d -> d.metadata().getInteger("step")).toList()).containsExactly(0, 1, 2, 3);
    }
  }

  @Test
  void aPollLandingOnTheOtherNodeIsForwardedToTheFeedsOwner() {
    String runId = a.http.trigger("cluster", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    a.db.awaitReplicaCaughtUp();
    Http.Response snapshot = a.http.get("/realtime/v1/runs/" + runId + "?offset=-1");
    String handle = snapshot.header("electric-handle");
    assertThat(handle).startsWith(a.node.nodeId());
    a.http.setMetadata(runId, new JsonObject().put("step", 1));
    Http.Response live = b.http.get("/realtime/v1/runs/" + runId + "?offset=" + snapshot.header("electric-offset")
        + "&handle=" + handle + "&live=true&cursor=");
    assertThat(live.status()).isEqualTo(200);
    JsonArray body = new JsonArray(live.body());
    assertThat(new JsonObject(body.getJsonObject(0).getJsonObject("value").getString("metadata")).getInteger("step")).isEqualTo(1);
    assertThat(live.header("electric-offset")).isEqualTo("2_0");
  }

  @Test
  void aHandleWhoseNodeIsGoneGetsMustRefetch() {
    Http.Response gone = b.http.get("/realtime/v1/runs/run_x?offset=3_0&handle=zzzzzzzz-0-1-abcdef&live=true");
    assertThat(gone.status()).isEqualTo(409);
    assertThat(gone.body()).isEqualTo("[{\"headers\":{\"control\":\"must-refetch\"}}]");
    assertThat(gone.header("electric-handle")).isNotBlank().isNotEqualTo("zzzzzzzz-0-1-abcdef");
  }
}
