package io.freshet.edge.dashboard;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.Version;
import io.freshet.core.lag.LagState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;

/**
 * A node's health as {@code /health} and the dashboard report it: can it reach its primary (no
 * primary: no writes, no authentication), its replica ({@code ok}, {@code paused} or
 * {@code unreachable}; without it feeds keep serving through the fallback), and the lag sampler's
 * current estimate and source.
 */
public final class NodeHealth {

  /** A standby reports whether its replay is paused (an operator's pg_wal_replay_pause(), or a stuck replay). */
  static final String REPLICA_STATE = "SELECT CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused";

  private NodeHealth() {}

  /**
   * {@code {status, node, version, primary, replica, lagMs, lagSource, replicas}}; {@code status} is
   * ok or unavailable; {@code replica} is the first replica's connection; {@code replicas} lists
   * each with its estimate and whether it is in rotation (as the lag sampler sees them).
   */
  public static Future<JsonObject> check(Vertx vertx, String nodeId, Pool primary, Pool replica) {
    Future<String> primaryState = primary.query("SELECT 1").execute().timeout(2, TimeUnit.SECONDS)
        .map("ok").recover(e -> Future.succeededFuture("unreachable: " + e.getMessage()));
    Future<String> replicaState = replica == null ? Future.succeededFuture("none")
        : replica.query(REPLICA_STATE).execute().timeout(2, TimeUnit.SECONDS)
            .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean("paused")) ? "paused" : "ok")
            .recover(e -> Future.succeededFuture("unreachable"));
    // No sampler on this node (or it did not answer): lagMs and lagSource are null.
    Future<LagState> lag = vertx.eventBus().<LagState>request(NodeAddresses.lagState(), null,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(2000))
        .map(Message::body).recover(e -> Future.succeededFuture(null));
    return Future.join(primaryState, replicaState, lag).transform(ar -> {
      LagState state = lag.result();
      return Future.succeededFuture(new JsonObject().put("status", "ok".equals(primaryState.result()) ? "ok" : "unavailable")
          .put("node", nodeId).put("version", Version.VERSION).put("primary", primaryState.result()).put("replica", replicaState.result())
          .put("lagMs", state == null ? null : state.lagMs()).put("lagSource", state == null ? null : state.source())
          .put("replicas", replicas(state)));
    });
  }

  private static io.vertx.core.json.JsonArray replicas(LagState state) {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    if (state != null) {
      state.replicas().forEach(r -> out.add(new JsonObject().put("replica", r.name()).put("endpoint", r.endpoint())
          .put("lagMs", r.lagMs()).put("inRotation", r.inRotation()).put("error", r.error())));
    }
    return out;
  }
}
