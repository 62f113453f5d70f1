package io.freshet.edge;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.stats.StatsProtocol;
import io.freshet.core.time.Scheduler;
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
  private final Scheduler scheduler;

  DashboardRoutes(Vertx vertx, Scheduler scheduler, String nodeId, Authenticator auth) {
    this.vertx = vertx;
    this.scheduler = scheduler;
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
      List<StatsProtocol.NodeReport> nodes = new ArrayList<>();
      long started = scheduler.nowMs();
      long[] lastAnswer = {started};
      MessageConsumer<StatsProtocol.NodeReport> consumer = vertx.eventBus().consumer(replyTo, m -> {
        nodes.add(m.body());
        lastAnswer[0] = scheduler.nowMs();
      });
      consumer.completion().onComplete(registered -> {
        vertx.eventBus().publish(NodeAddresses.statsCollect(), new StatsProtocol.Collect(replyTo, since));
        long[] timer = {-1};
        timer[0] = scheduler.every(25, () -> {
          long now = scheduler.nowMs();
          boolean quiet = !nodes.isEmpty() && now - lastAnswer[0] >= GATHER_QUIET_MS;
          if (!quiet && now - started < GATHER_MAX_MS) {
            return;
          }
          scheduler.cancel(timer[0]);
          consumer.unregister();
          nodes.sort(Comparator.comparing(StatsProtocol.NodeReport::node));
          ctx.response().putHeader("cache-control", "no-store");
          ctx.json(new JsonObject().put("environment", principal.envId()).put("credential", principal.secret() ? "secret key" : "public token")
              .put("servedBy", nodeId).put("at", now)
              .put("nodes", new JsonArray(nodes.stream().map(StatsProtocol.NodeReport::figures).collect(java.util.stream.Collectors.toList()))));
        });
      });
    });
  }
}
