package io.freshet.api;

import io.freshet.core.FreshetConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.sqlclient.Pool;
import java.util.Set;

/**
 * The HTTP edge: the write API, the realtime feeds, {@code /metrics} and {@code /health} on one
 * port (the SDK is configured with a single base URL). Several instances share the port.
 */
public final class WebVerticle extends VerticleBase {

  private final String nodeId;
  private final Pool primary;
  private final PrometheusMeterRegistry registry;
  private HttpServer server;

  public WebVerticle(String nodeId, Pool primary, PrometheusMeterRegistry registry) {
    this.nodeId = nodeId;
    this.primary = primary;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    Authenticator auth = new Authenticator(primary);
    ConnectionLimiter limiter = new ConnectionLimiter(vertx, config.getInt(FreshetConfig.REALTIME_MAX_CONNECTIONS_PER_ENV));
    Router router = Router.router(vertx);
    router.route().handler(CorsHandler.create()
        .addOriginWithRegex(".*")
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.OPTIONS))
        .allowedHeaders(Set.of("authorization", "content-type", "trigger-version", "x-trigger-electric-version",
            "x-trigger-api-version", "x-trigger-branch", "x-trigger-client", "x-trigger-source",
            "x-trigger-request-idempotency-key", "x-trigger-realtime-streams-version"))
        .exposedHeaders(Set.of("electric-handle", "electric-offset", "electric-schema", "electric-cursor",
            "electric-up-to-date", "retry-after", "x-trigger-jwt", "x-trigger-jwt-claims")));
    router.route().handler(BodyHandler.create(false).setBodyLimit(config.getInt(FreshetConfig.HTTP_BODY_LIMIT_BYTES)));
    // For load balancers: a node that cannot reach its primary can neither write nor authenticate.
    router.get("/health").handler(ctx -> primary.query("SELECT 1").execute()
        .timeout(2, java.util.concurrent.TimeUnit.SECONDS)
        .onComplete(ar -> ctx.response().setStatusCode(ar.succeeded() ? 200 : 503)
            .putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
            .end(new JsonObject().put("status", ar.succeeded() ? "ok" : "unavailable").put("node", nodeId)
                .put("primary", ar.succeeded() ? "ok" : String.valueOf(ar.cause().getMessage())).encode())));
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4")
        .end(registry.scrape()));
    new RealtimeRoutes(vertx, nodeId, config, auth, limiter).mount(router);
    new WriteRoutes(vertx, auth).mount(router);
    router.route().failureHandler(HttpErrors::handle);
    router.route().last().handler(ctx -> ctx.fail(new io.freshet.core.FreshetException(404, "no such endpoint: "
        + ctx.request().method() + " " + ctx.request().path())));
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(config.getInt(FreshetConfig.HTTP_PORT), config.get(FreshetConfig.HTTP_HOST))
        .onSuccess(s -> server = s);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
