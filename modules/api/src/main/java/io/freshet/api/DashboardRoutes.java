package io.freshet.api;

import io.freshet.core.bus.NodeAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * The operator's dashboard: a static page shipped in the jar ({@code /dashboard/}), which follows
 * the environment's runs through the realtime feeds like any client, and {@code GET
 * /api/v1/dashboard/stats}, every node's figures gathered over the clustered event bus.
 */
final class DashboardRoutes {

  /** How long the gather waits for nodes at most (a node whose primary is down answers after its 2 s health timeout). */
  static final long GATHER_MAX_MS = 2_500;
  /** The gather ends this long after the last node answered. */
  static final long GATHER_QUIET_MS = 150;

  private final Vertx vertx;
  private final String nodeId;
  private final Authenticator auth;

  DashboardRoutes(Vertx vertx, String nodeId, Authenticator auth) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.auth = auth;
  }

  void mount(Router router) {
    // "/dashboard" also matches "/dashboard/" in vertx-web: only the bare path is redirected.
    router.getWithRegex("/dashboard").handler(ctx -> ctx.redirect("/dashboard/"));
    router.get("/dashboard/*").handler(ctx -> {
      SecurityHeaders.dashboard(ctx.response()); // its own script, style and fetches; nothing inline, no frames
      ctx.next();
    });
    router.get("/dashboard/*").handler(StaticHandler.create("dashboard").setCachingEnabled(false).setIndexPage("index.html"));
    router.get("/api/v1/dashboard/stats").handler(this::stats);
  }

  /**
   * The figures are the whole cluster's (every tenant's feeds and load), so they take the
   * environment's secret key or a token with {@code admin} or {@code read:all}; a token scoped to
   * runs, tags or batches gets 403. The runs the page shows are the environment's.
   */
  private void stats(RoutingContext ctx) {
    long since;
    try {
      since = Long.parseLong(ctx.request().getParam("since", "0"));
    } catch (NumberFormatException e) {
      ctx.fail(io.freshet.core.FreshetException.badRequest("since must be epoch milliseconds"));
      return;
    }
    auth.authenticate(ctx.request().getHeader("Authorization")).map(principal -> {
      principal.requireOperator();
      return principal;
    }).onFailure(ctx::fail).onSuccess(principal -> {
      String replyTo = "freshet.stats.reply." + UUID.randomUUID();
      List<JsonObject> nodes = new ArrayList<>();
      long started = System.currentTimeMillis();
      long[] lastAnswer = {started};
      MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(replyTo, m -> {
        nodes.add(m.body());
        lastAnswer[0] = System.currentTimeMillis();
      });
      consumer.completion().onComplete(registered -> {
        vertx.eventBus().publish(NodeAddresses.statsCollect(), new JsonObject().put("replyTo", replyTo).put("sinceMs", since));
        vertx.setPeriodic(25, timer -> {
          long now = System.currentTimeMillis();
          boolean quiet = !nodes.isEmpty() && now - lastAnswer[0] >= GATHER_QUIET_MS;
          if (!quiet && now - started < GATHER_MAX_MS) {
            return;
          }
          vertx.cancelTimer(timer);
          consumer.unregister();
          nodes.sort(Comparator.comparing(n -> n.getString("node", "")));
          ctx.response().putHeader("cache-control", "no-store");
          ctx.json(new JsonObject().put("environment", principal.envId()).put("credential", principal.secret() ? "secret key" : "public token")
              .put("servedBy", nodeId).put("at", now).put("nodes", new JsonArray(new ArrayList<>(nodes))));
        });
      });
    });
  }
}
