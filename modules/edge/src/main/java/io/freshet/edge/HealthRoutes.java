package io.freshet.edge;

import io.freshet.edge.dashboard.NodeHealth;
import io.freshet.core.Version;
import io.freshet.core.bus.NodeAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.function.BooleanSupplier;

/**
 * Three questions an orchestrator or a load balancer asks, three answers:
 * <ul>
 *   <li>{@code /health/live}: is the process alive (this event loop answers, and so does the lag
 *       sampler's, over the local event bus, without a query)? Never depends on a database, so a
 *       primary outage never gets nodes restarted while they keep serving feeds from the replica.
 *   <li>{@code /health/ready}: can it serve feeds? The replica answers (paused counts: the fallback
 *       covers it), or else the primary the fallback reads; and, when clustered, its cluster member
 *       is up.
 *   <li>{@code /health}: unchanged for compatibility, 503 while the primary is unreachable (no
 *       writes, no authentication).
 * </ul>
 */
final class HealthRoutes {

  /** How long the liveness probe waits for the lag sampler's event loop. */
  static final long LIVE_WITHIN_MS = 2_000;

  private final Vertx vertx;
  private final String nodeId;
  private final Pool primary;
  private final Pool replica;
  private final BooleanSupplier clusterJoined;

  /** {@code clusterJoined}: true when not clustered, or while this node's cluster member is up. */
  HealthRoutes(Vertx vertx, String nodeId, Pool primary, Pool replica, BooleanSupplier clusterJoined) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.primary = primary;
    this.replica = replica;
    this.clusterJoined = clusterJoined;
  }

  void mount(Router router) {
    router.get("/health").handler(this::health);
    router.get("/health/live").handler(this::live);
    router.get("/health/ready").handler(this::ready);
  }

  private void health(RoutingContext ctx) {
    NodeHealth.check(vertx, nodeId, primary, replica).onComplete(ar -> {
      JsonObject body = ar.result();
      answer(ctx, "ok".equals(body.getString("status")), body);
    });
  }

  private void live(RoutingContext ctx) {
    vertx.eventBus().request(NodeAddresses.lagState(), new JsonObject(), new DeliveryOptions().setLocalOnly(true).setSendTimeout(LIVE_WITHIN_MS))
        .onComplete(ar -> answer(ctx, ar.succeeded(), new JsonObject().put("status", ar.succeeded() ? "live" : "unresponsive")
            .put("node", nodeId).put("version", Version.VERSION)));
  }

  private void ready(RoutingContext ctx) {
    NodeHealth.check(vertx, nodeId, primary, replica).onComplete(ar -> {
      JsonObject health = ar.result();
      boolean joined = clusterJoined.getAsBoolean();
      boolean feeds = feedsServable(health.getString("replica"), health.getString("primary"));
      answer(ctx, feeds && joined, new JsonObject().put("status", feeds && joined ? "ready" : "not ready").put("node", nodeId)
          .put("feeds", feeds).put("cluster", joined).put("primary", health.getString("primary")).put("replica", health.getString("replica")));
    });
  }

  /** Feeds read the replica (a paused one too: the fallback serves what it has not applied), or the primary when there is none or it is down. */
  static boolean feedsServable(String replicaState, String primaryState) {
    return "ok".equals(replicaState) || "paused".equals(replicaState) || "ok".equals(primaryState);
  }

  private static void answer(RoutingContext ctx, boolean ok, JsonObject body) {
    ctx.response().setStatusCode(ok ? 200 : 503).putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
        .end(body.encode());
  }
}
