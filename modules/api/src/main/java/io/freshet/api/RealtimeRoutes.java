package io.freshet.api;

import io.freshet.api.ElectricProtocol.Offset;
import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.ShapeHandle;
import io.freshet.producer.Addresses;
import io.freshet.store.Ids;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The realtime feeds in Electric's shape protocol: {@code offset=-1} opens a feed and returns its
 * snapshot; later requests poll it by handle and offset, held ({@code live=true}) until rows arrive,
 * or streamed as server-sent events ({@code live_sse=true}). The feed's state lives on the router
 * that opened it; this edge forwards polls to it, on this node or another.
 */
final class RealtimeRoutes {

  private final Vertx vertx;
  private final String nodeId;
  private final int routerInstances;
  private final Authenticator auth;
  private final ConnectionLimiter limiter;
  private final long livePollMs;
  private final double jitter;
  private final long maxCreatedAtWindowMs;
  private final long sseMaxMs;
  private final long keepAliveMs;

  RealtimeRoutes(Vertx vertx, String nodeId, FreshetConfig config, Authenticator auth, ConnectionLimiter limiter) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.routerInstances = config.getInt(FreshetConfig.ROUTER_INSTANCES);
    this.auth = auth;
    this.limiter = limiter;
    this.livePollMs = config.getInt(FreshetConfig.ROUTER_LIVE_POLL_TIMEOUT_MS);
    this.jitter = config.get(FreshetConfig.ROUTER_LIVE_POLL_JITTER);
    this.maxCreatedAtWindowMs = config.get(FreshetConfig.REALTIME_MAX_CREATED_AT_WINDOW_MS);
    this.sseMaxMs = config.getInt(FreshetConfig.REALTIME_SSE_MAX_DURATION_MS);
    this.keepAliveMs = config.getInt(FreshetConfig.REALTIME_SSE_KEEP_ALIVE_MS);
  }

  void mount(Router router) {
    router.get("/realtime/v1/runs/:runId").handler(ctx -> serve(ctx,
        () -> FeedRequests.runFilter(ctx.pathParam("runId")),
        filter -> List.of("runs:" + filter.getString("runId"))));
    router.get("/realtime/v1/runs").handler(ctx -> serve(ctx,
        () -> FeedRequests.tagFilter(ctx.queryParam("tags"), ctx.request().getParam("createdAt"), maxCreatedAtWindowMs, System.currentTimeMillis()),
        filter -> filter.getJsonArray("tags").isEmpty() ? List.of("runs:*")
            : filter.getJsonArray("tags").stream().map(t -> "tags:" + t).toList()));
    router.get("/realtime/v1/batches/:batchId").handler(ctx -> serve(ctx,
        () -> FeedRequests.batchFilter(ctx.pathParam("batchId")),
        filter -> List.of("batch:" + filter.getString("batchId"))));
  }

  private void serve(RoutingContext ctx, Supplier<JsonObject> filterOf, java.util.function.Function<JsonObject, List<String>> resourcesOf) {
    String authorization;
    try {
      authorization = authorization(ctx);
    } catch (FreshetException e) {
      ctx.fail(e);
      return;
    }
    auth.authenticate(authorization).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      try {
        Principal principal = ar.result();
        JsonObject filter = filterOf.get();
        principal.requireRead(resourcesOf.apply(filter));
        MultiMap params = ctx.request().params();
        Offset offset = Offset.parse(params.get("offset"));
        JsonArray skip = FeedRequests.skipColumns(ctx.queryParam("skipColumns"));
        RunColumn.selecting(skip.stream().map(Object::toString).toList()); // 400 on unknown columns
        if (offset.initial()) {
          open(ctx, principal.envId(), filter, skip, offset.now());
          return;
        }
        String handle = params.get("handle");
        if (handle == null) {
          throw FreshetException.badRequest("handle is required with an offset other than -1 or now");
        }
        ShapeHandle owner = ShapeHandle.tryParse(handle).orElse(null);
        if (owner == null) {
          failPoll(ctx, new Bus.Gone("handle is not one this server issued; refetch"));
          return;
        }
        FeedRef feed = new FeedRef(principal.envId(), filter);
        boolean live = ElectricProtocol.isLive(params);
        if (live && ElectricProtocol.isSse(params)) {
          limiter.acquire(principal.envId()).onComplete(slot -> {
            if (slot.failed()) {
              ctx.fail(slot.cause());
            } else {
              stream(ctx, feed, owner, offset.seq(), skip, params.get("offset"), params.get("cursor"), slot.result());
            }
          });
        } else if (live) {
          limiter.acquire(principal.envId()).onComplete(slot -> {
            if (slot.failed()) {
              ctx.fail(slot.cause());
            } else {
              longPoll(ctx, feed, owner, offset.seq(), skip, params.get("cursor"), slot.result());
            }
          });
        } else {
          poll(ctx, feed, owner, offset.seq(), skip);
        }
      } catch (RuntimeException e) {
        ctx.fail(e);
      }
    });
  }

  /**
   * The {@code Authorization} header, or else a {@code ?token=} query parameter: a browser's
   * {@code EventSource} cannot send headers. The query form takes only a public access token, never
   * a secret key, since URLs end up in logs and browser history.
   */
  static String authorization(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    String token = ctx.request().getParam("token");
    if (header != null || token == null) {
      return header;
    }
    if (!PublicTokens.looksLikeJwt(token.trim())) {
      throw FreshetException.unauthorized("?token= takes only a public access token (a JWT); send secret keys in the Authorization header");
    }
    return "Bearer " + token.trim();
  }

  private String localRouter(String envId) {
    return Addresses.router(nodeId, Math.floorMod(envId.hashCode(), routerInstances));
  }

  private void open(RoutingContext ctx, String envId, JsonObject filter, JsonArray skip, boolean skipHistory) {
    JsonObject request = new JsonObject().put("op", "open").put("envId", envId).put("filter", filter).put("skip", skip);
    Bus.ask(vertx, localRouter(envId), request, 30_000).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      JsonObject reply = ar.result();
      long seq = reply.getLong("seq");
      JsonArray messages = skipHistory ? new JsonArray() : reply.getJsonArray("messages");
      HttpServerResponse response = jsonResponse(ctx, reply.getString("handle"), seq);
      response.putHeader(ElectricProtocol.SCHEMA, schema(skip));
      response.end(ElectricProtocol.body(messages, seq));
    });
  }

  /** A catch-up request (not live): answers at once with whatever the client has not seen. */
  private void poll(RoutingContext ctx, FeedRef feed, ShapeHandle owner, long offset, JsonArray skip) {
    JsonObject request = pollRequest(feed, owner, offset, false, 0, "");
    Bus.ask(vertx, address(owner), request, 30_000).onComplete(ar -> {
      if (ar.failed()) {
        failPoll(ctx, ar.cause());
        return;
      }
      long seq = ar.result().getLong("seq");
      HttpServerResponse response = jsonResponse(ctx, owner.toString(), seq);
      response.putHeader(ElectricProtocol.SCHEMA, schema(skip));
      response.end(ElectricProtocol.body(ar.result().getJsonArray("messages"), seq));
    });
  }

  private void longPoll(RoutingContext ctx, FeedRef feed, ShapeHandle owner, long offset, JsonArray skip, String cursor, Runnable release) {
    long hold = holdMs();
    String pollId = UUID.randomUUID().toString();
    JsonObject request = pollRequest(feed, owner, offset, true, hold, pollId);
    String address = address(owner);
    boolean[] done = {false};
    ctx.response().closeHandler(v -> {
      if (!done[0]) {
        done[0] = true;
        release.run();
        vertx.eventBus().send(address, new JsonObject().put("op", "cancel").put("handle", owner.toString()).put("pollId", pollId));
      }
    });
    Bus.ask(vertx, address, request, hold + 15_000).onComplete(ar -> {
      if (!done[0]) {
        done[0] = true;
        release.run();
      }
      if (ctx.response().closed()) {
        return;
      }
      if (ar.failed()) {
        failPoll(ctx, ar.cause());
        return;
      }
      long seq = ar.result().getLong("seq");
      HttpServerResponse response = jsonResponse(ctx, owner.toString(), seq);
      response.putHeader(ElectricProtocol.CURSOR, ElectricProtocol.cursor(cursor));
      response.end(ElectricProtocol.body(ar.result().getJsonArray("messages"), seq));
    });
  }

  /** SSE: one change message per event, an up-to-date event after each group, closed after a while. */
  private void stream(RoutingContext ctx, FeedRef feed, ShapeHandle owner, long offset, JsonArray skip, String rawOffset, String cursor, Runnable release) {
    String address = address(owner);
    // A first, non-live poll validates the handle (a 409 must be a plain response, not an event)
    // and flushes whatever is already pending.
    Bus.ask(vertx, address, pollRequest(feed, owner, offset, false, 0, ""), 30_000).onComplete(first -> {
      if (first.failed()) {
        release.run();
        failPoll(ctx, first.cause());
        return;
      }
      HttpServerResponse response = ctx.response();
      cors(response);
      response.setChunked(true)
          .putHeader("content-type", "text/event-stream")
          .putHeader("cache-control", "no-store")
          .putHeader("x-accel-buffering", "no")
          .putHeader(ElectricProtocol.HANDLE, owner.toString())
          .putHeader(ElectricProtocol.OFFSET, rawOffset)
          .putHeader(ElectricProtocol.CURSOR, ElectricProtocol.cursor(cursor));
      new SseSession(vertx, response, owner, address, pollRequest(feed, owner, 0, true, 0, ""), sseMaxMs, keepAliveMs, livePollMs, release)
          .start(first.result());
    });
  }

  /** The environment and filter a request names; the feed's router checks the handle against them. */
  record FeedRef(String envId, JsonObject filter) {}

  static JsonObject pollRequest(FeedRef feed, ShapeHandle owner, long offset, boolean live, long holdMs, String pollId) {
    return new JsonObject().put("op", "poll").put("handle", owner.toString()).put("offset", offset)
        .put("live", live).put("holdMs", holdMs).put("pollId", pollId)
        .put("envId", feed.envId()).put("filter", feed.filter());
  }

  private static String address(ShapeHandle owner) {
    return Addresses.router(owner.nodeId(), owner.routerIndex());
  }

  private long holdMs() {
    double factor = 1 + jitter * (ThreadLocalRandom.current().nextDouble() * 2 - 1);
    return Math.max(1, Math.round(livePollMs * factor));
  }

  private static String schema(JsonArray skip) {
    return RunColumn.schemaHeader(RunColumn.selecting(skip.stream().map(Object::toString).toList()));
  }

  private static HttpServerResponse jsonResponse(RoutingContext ctx, String handle, long seq) {
    HttpServerResponse response = ctx.response();
    cors(response);
    return response.setStatusCode(200)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .putHeader(ElectricProtocol.HANDLE, handle)
        .putHeader(ElectricProtocol.OFFSET, ElectricProtocol.offset(seq))
        .putHeader(ElectricProtocol.UP_TO_DATE, "");
  }

  /** 409 must-refetch for a handle this cluster no longer knows; anything else goes to the failure handler. */
  private void failPoll(RoutingContext ctx, Throwable cause) {
    if (cause instanceof FreshetException fe && fe.status() == 409) {
      HttpServerResponse response = ctx.response();
      cors(response);
      response.setStatusCode(409)
          .putHeader("content-type", "application/json")
          .putHeader("cache-control", "no-store")
          .putHeader(ElectricProtocol.HANDLE, nodeId + "-0-0-" + Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 8))
          .end(ElectricProtocol.MUST_REFETCH);
      return;
    }
    ctx.fail(cause);
  }

  static void cors(HttpServerResponse response) {
    response.putHeader("access-control-allow-origin", "*").putHeader("access-control-expose-headers", "*");
  }
}
