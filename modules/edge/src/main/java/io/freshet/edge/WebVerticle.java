package io.freshet.edge;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetConfig;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.sqlclient.Pool;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The HTTP edge: the write API, the realtime feeds, {@code /metrics} and the health probes on one
 * port (the SDK is configured with a single base URL). Several instances share the port; each
 * keeps its connections' deadlines ({@link ConnectionDeadlines}), and the node's fair limits per
 * credential ({@link CredentialLimits}) are shared by all of them.
 */
public final class WebVerticle extends VerticleBase {

  /** The node that answered, on every response. */
  static final String NODE_HEADER = "freshet-node";

  private final String nodeId;
  private final int index;
  private final Pool primary;
  private final Pool replica;
  private final PrometheusMeterRegistry registry;
  private final CredentialLimits credentialLimits;
  private final BooleanSupplier clusterJoined;
  private final java.util.List<io.micrometer.core.instrument.Meter> meters = new java.util.ArrayList<>();
  private HttpServer server;
  private Sink sink;

  /**
   * {@code replica} may be null (no replica configured: feeds read the primary);
   * {@code credentialLimits} is the node's, shared by its instances; {@code clusterJoined} says
   * whether this node's cluster member is up (always true when not clustered).
   */
  public WebVerticle(String nodeId, int index, Pool primary, Pool replica, PrometheusMeterRegistry registry,
      CredentialLimits credentialLimits, BooleanSupplier clusterJoined) {
    this(nodeId, index, primary, replica, registry, credentialLimits, clusterJoined, () -> false);
  }

  /**
   * @param stopping true once the node is stopping: new connections, and requests on connections
   *     already open, are closed without a response, which a load balancer retries on another node
   *     (nginx: proxy_next_upstream error). Without it, an SSE client whose stream this node ended
   *     could reconnect to this node's other web instance, still accepting, and be ended again.
   */
  public WebVerticle(String nodeId, int index, Pool primary, Pool replica, PrometheusMeterRegistry registry,
      CredentialLimits credentialLimits, BooleanSupplier clusterJoined, BooleanSupplier stopping) {
    this.stopping = stopping;
    this.nodeId = nodeId;
    this.index = index;
    this.primary = primary;
    this.replica = replica;
    this.registry = registry;
    this.credentialLimits = credentialLimits;
    this.clusterJoined = clusterJoined;
  }

  private final BooleanSupplier stopping;

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    Scheduler scheduler = VertxScheduler.on(vertx);
    Authenticator auth = new Authenticator(primary, new TokenVerifier(vertx), scheduler);
    ConnectionLimiter limiter = new ConnectionLimiter(vertx, config.getInt(FreshetConfig.REALTIME_MAX_CONNECTIONS_PER_ENV), credentialLimits);
    ConnectionDeadlines deadlines = new ConnectionDeadlines(scheduler, config.getInt(FreshetConfig.HTTP_REQUEST_HEADER_TIMEOUT_MS),
        config.getInt(FreshetConfig.HTTP_IDLE_TIMEOUT_MS), connectionsClosed());
    Router router = Router.router(vertx);
    // First of all: the connection's deadline follows the request, and every answer carries the security headers.
    router.route().handler(ctx -> {
      HttpConnection connection = ctx.request().connection();
      boolean exempt = RequestGate.exemptFromDeadlines(ctx.request());
      deadlines.requestStarted(connection, exempt);
      // The response's own end handler, not ctx.addEndHandler: that one hangs the whole
      // RoutingContext (its parsed query, its data map, Vert.x Web's request wrapper) on the
      // response for as long as a held SSE response lives, about 2 KB per subscriber (measured
      // with GC.class_histogram at 10,000 subscribers, before and after). Nothing else here sets it.
      ctx.response().endHandler(v -> deadlines.requestEnded(connection, exempt));
      SecurityHeaders.apply(ctx.response());
      // Which node answered, behind a load balancer: what a client or an operator needs to tell
      // a reconnect its node's stop caused from any other.
      ctx.response().putHeader(NODE_HEADER, nodeId);
      ctx.next();
    });
    router.route().handler(cors(config.get(FreshetConfig.HTTP_CORS_ORIGINS))
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.HEAD, HttpMethod.OPTIONS))
        .allowedHeaders(Set.of("authorization", "content-type", "trigger-version", "x-trigger-electric-version",
            "x-trigger-api-version", "x-trigger-branch", "x-trigger-client", "x-trigger-source",
            "x-trigger-request-idempotency-key", "x-trigger-realtime-streams-version", "last-event-id", "timeout-seconds",
            "x-trigger-stream-start", "x-client-id", "x-resume-from-chunk", "x-stream-version"))
        .exposedHeaders(Set.of("electric-handle", "electric-offset", "electric-schema", "electric-cursor",
            "electric-up-to-date", "retry-after", NODE_HEADER, RealtimeRoutes.REFETCH_REASON, "x-trigger-jwt", "x-trigger-jwt-claims", "x-stream-version", "x-last-chunk-index")));
    RunAccess runAccess = new RunAccess(primary, scheduler::nowMs);
    PacketRoutes packets = new PacketRoutes(config, auth, runAccess, primary, scheduler);
    packets.mountUploads(router);
    SessionCounts counts = new SessionCounts(registry, index);
    meters.addAll(counts.meters());
    sink = new Sink(vertx, scheduler, NodeAddresses.sink(nodeId, index), config.getInt(FreshetConfig.REALTIME_SSE_KEEP_ALIVE_MS), counts);
    StreamRoutes streamRoutes = new StreamRoutes(vertx, config, auth, runAccess, limiter, sink, scheduler);
    streamRoutes.mountWriters(router);
    router.route().handler(BodyHandler.create(false).setBodyLimit(config.getInt(FreshetConfig.HTTP_BODY_LIMIT_BYTES)));
    new HealthRoutes(vertx, nodeId, primary, replica, clusterJoined).mount(router);
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4")
        .end(registry.scrape()));
    new RealtimeRoutes(vertx, scheduler, nodeId, config, auth, runAccess, limiter, sink).mount(router);
    streamRoutes.mount(router);
    new WriteRoutes(vertx, config, auth, packets, scheduler).mount(router);
    packets.mount(router);
    new DashboardRoutes(vertx, scheduler, nodeId, auth).mount(router);
    if (config.get(FreshetConfig.TEST_HOOKS)) {
      router.post("/_test/hooks").handler(ctx -> ctx.json(io.freshet.core.TestHooks.set(vertx, ctx.body().asJsonObject())));
    }
    router.route().failureHandler(HttpErrors::handle);
    router.route().last().handler(ctx -> ctx.fail(new io.freshet.core.FreshetException(404, "no such endpoint: "
        + ctx.request().method() + " " + ctx.request().path())));
    // Strict thread mode: every interaction with a connection happens on this verticle's event loop
    // (routes, bus replies and SSE pushes all run on its context), so Vert.x writes straight to the
    // channel instead of keeping a multi-producer outbound queue per connection. That queue is
    // Netty's chunked MPSC queue, about 4 KB of heap per connection: a third of what an idle SSE
    // subscriber cost before (measured with jcmd GC.class_histogram at 19,000 subscribers).
    // Strict thread mode covers HTTP/1 only (Vert.x 5 HTTP/2 streams keep their own queue), and a
    // cleartext HTTP/2 upgrade under it can leave the upgraded request unanswered: Java's
    // HttpClient asks for h2c on every new connection by default, and in a loop of fresh nodes 10
    // of the first 33 never answered their first request (0 of 80 with h2c off; FirstRequestTest).
    // Nothing Freshet serves needs h2c (browsers speak HTTP/2 only over TLS, load balancers speak
    // HTTP/1.1 to their upstreams), so it is off: an upgrade request is answered as the plain
    // HTTP/1.1 request it also is.
    //
    // No setIdleTimeout here: Vert.x's idle timeout is one read-or-write clock for every connection,
    // which would cut held long-polls or leave half-open sockets, and Vert.x has no header timeout.
    // Each connection's deadline follows its phase instead (ConnectionDeadlines, fed by the
    // connection and request handlers below and by HttpFraming's read hook).
    HttpServerOptions options = new HttpServerOptions().setStrictThreadMode(true).setHttp2ClearTextEnabled(false);
    Future<HttpServer> listening = vertx.createHttpServer(options)
        .connectionHandler(connection -> {
          if (stopping.getAsBoolean()) {
            connection.close(); // the balancer sends the request to another node
            return;
          }
          ConnectionDeadlines.Connection view = HttpFraming.install(connection, options, () -> deadlines.read(connection));
          deadlines.opened(connection, view);
          connection.closeHandler(v -> deadlines.closed(connection));
        })
        .invalidRequestHandler(RequestGate::invalid)
        .requestHandler(request -> {
          if (stopping.getAsBoolean()) {
            request.connection().close(); // unanswered: retried on another node
            return;
          }
          String refusal = RequestGate.refusal(request);
          if (refusal != null) {
            RequestGate.refuse(request, 400, refusal);
          } else {
            router.handle(request);
          }
        })
        .listen(config.getInt(FreshetConfig.HTTP_PORT), config.get(FreshetConfig.HTTP_HOST))
        .onSuccess(s -> server = s);
    return Future.join(sink.start(), listening);
  }

  /**
   * {@code http.corsOrigins}: {@code *} lets every origin read (the browser gets
   * {@code Access-Control-Allow-Origin: *}); a comma-separated list lets those origins alone, and a
   * request from any other origin is refused with a 403.
   */
  static CorsHandler cors(String origins) {
    CorsHandler cors = CorsHandler.create();
    java.util.List<String> listed = java.util.Arrays.stream(origins.split(",")).map(String::trim).filter(o -> !o.isEmpty()).toList();
    if (!listed.isEmpty() && !listed.equals(java.util.List.of("*"))) {
      cors.addOrigins(listed);
    }
    return cors;
  }

  /** Stops taking requests and ends the SSE sessions, whose clients reconnect to another node. */
  @Override
  public Future<?> stop() {
    meters.forEach(registry::remove);
    Future<Void> closing = server == null ? Future.succeededFuture() : server.close();
    Future<Void> sinkDrained = sink == null ? Future.succeededFuture() : sink.closeAll();
    return Future.join(closing, sinkDrained);
  }

  /** Counts the connections the deadlines close, by reason. */
  private java.util.function.Consumer<String> connectionsClosed() {
    java.util.Map<String, io.micrometer.core.instrument.Counter> counters = new java.util.HashMap<>();
    for (String reason : new String[] {ConnectionDeadlines.HEADER_TIMEOUT, ConnectionDeadlines.IDLE_TIMEOUT}) {
      io.micrometer.core.instrument.Counter counter = io.micrometer.core.instrument.Counter.builder("freshet.http.connections.closed")
          .description("HTTP connections the edge closed for want of their client: request headers not complete in time"
              + " (http.requestHeaderTimeoutMs), or idle (http.idleTimeoutMs).")
          .tag("reason", reason).tag("instance", "web-" + index).register(registry);
      counters.put(reason, counter);
      meters.add(counter);
    }
    return reason -> counters.get(reason).increment();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
