package io.freshet.edge;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.edge.ElectricProtocol.Offset;
import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.ShapeHandle;
import io.freshet.core.feed.ElectricWire;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.Clock;
import io.freshet.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The realtime feeds in Electric's shape protocol: {@code offset=-1} joins a feed's log and returns
 * its snapshot; later requests name the log by handle and offset, held ({@code live=true}) until
 * the log grows, or streamed as server-sent events ({@code live_sse=true}) that the log's router
 * pushes to. The log lives on the router that opened it; this edge talks to it on this node or
 * another. Per client, only what must be per client stays here: the credentials and their scopes,
 * the connection-limit slot, and an SSE response's own deadline and keep-alives.
 */
final class RealtimeRoutes {

  /** The feed a request names, and the router that owns its log. */
  record FeedTarget(FeedProtocol.FeedRef feed, String router) {}

  private final Vertx vertx;
  private final String nodeId;
  private final int routerInstances;
  private final Authenticator auth;
  private final RunAccess runAccess;
  private final ConnectionLimiter limiter;
  private final Sink sink;
  private final MovedFeeds moved;
  private final Clock clock;
  private final long livePollMs;
  private final double jitter;
  private final long maxCreatedAtWindowMs;
  private final long sseMaxMs;
  private final int sseMaxBehindEntries;

  RealtimeRoutes(Vertx vertx, Clock clock, String nodeId, FreshetConfig config, Authenticator auth, RunAccess runAccess,
      ConnectionLimiter limiter, Sink sink) {
    this.vertx = vertx;
    this.clock = clock;
    this.runAccess = runAccess;
    this.nodeId = nodeId;
    this.routerInstances = config.getInt(FreshetConfig.ROUTER_INSTANCES);
    this.auth = auth;
    this.limiter = limiter;
    this.sink = sink;
    this.moved = sink.movedFeeds();
    this.livePollMs = config.getInt(FreshetConfig.ROUTER_LIVE_POLL_TIMEOUT_MS);
    this.jitter = config.get(FreshetConfig.ROUTER_LIVE_POLL_JITTER);
    this.maxCreatedAtWindowMs = config.get(FreshetConfig.REALTIME_MAX_CREATED_AT_WINDOW_MS);
    this.sseMaxMs = config.getInt(FreshetConfig.REALTIME_SSE_MAX_DURATION_MS);
    this.sseMaxBehindEntries = config.getInt(FreshetConfig.REALTIME_SSE_MAX_BEHIND_ENTRIES);
  }

  void mount(Router router) {
    // A run by id: its id, or (for tokens scoped to tags, batches or tasks) what the run belongs to.
    router.get("/realtime/v1/runs/:runId").handler(ctx -> serve(ctx,
        () -> FeedParams.runFilter(ctx.pathParam("runId")),
        (principal, filter) -> runAccess.requireRead(principal, ((FeedFilter.Run) filter).runId())));
    router.get("/realtime/v1/runs").handler(ctx -> serve(ctx,
        () -> FeedParams.tagFilter(ctx.queryParam("tags"), ctx.queryParam("statuses"), ctx.request().getParam("createdAt"), maxCreatedAtWindowMs, clock.nowMs()),
        (principal, filter) -> readable(principal, ((FeedFilter.Tags) filter).tags().isEmpty() ? List.of("runs:*")
            : ((FeedFilter.Tags) filter).tags().stream().map(t -> "tags:" + t).toList())));
    router.get("/realtime/v1/batches/:batchId").handler(ctx -> serve(ctx,
        () -> FeedParams.batchFilter(ctx.pathParam("batchId")),
        (principal, filter) -> readable(principal, List.of("batch:" + ((FeedFilter.Batch) filter).batchId()))));
  }

  private static Future<Void> readable(Principal principal, List<String> resources) {
    try {
      principal.requireRead(resources);
      return Future.succeededFuture();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private void serve(RoutingContext ctx, Supplier<FeedFilter> filterOf, BiFunction<Principal, FeedFilter, Future<Void>> authorize) {
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
      Principal principal = ar.result();
      FeedFilter filter;
      try {
        RequestText.requireUtf8Query(ctx.request().query());
        filter = filterOf.get();
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
      authorize.apply(principal, filter).onComplete(allowed -> {
        if (allowed.failed()) {
          ctx.fail(allowed.cause());
        } else {
          serveAuthorized(ctx, principal, filter);
        }
      });
    });
  }

  private void serveAuthorized(RoutingContext ctx, Principal principal, FeedFilter filter) {
    try {
      MultiMap params = ctx.request().params();
      Offset offset = Offset.parse(params.get("offset"));
      Set<RunColumn> columns = RunColumn.selecting(FeedParams.skipColumns(ctx.queryParam("skipColumns")));
      FeedProtocol.FeedRef feed = new FeedProtocol.FeedRef(principal.envId(), filter, columns);
      if (offset.initial()) {
        limiter.admitFeedOpen(principal); // each open reads the replica and may start a log: rated per credential
        open(ctx, new FeedProtocol.Open(feed, offset.now(), params.get(ElectricProtocol.EXPIRED_HANDLE_PARAM), principal.credential()));
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
      String named = NodeAddresses.router(owner.nodeId(), owner.routerIndex());
      java.util.function.Consumer<String> serveAt = router -> serveAt(ctx, principal, new FeedTarget(feed, router), handle, offset.seq());
      // A 409 from the owner may mean the log was handed over at a graceful stop: failPoll asks where it went.
      ctx.put(RETRY_AT_NEW_OWNER, serveAt);
      ctx.put(TRIED_OWNERS, new LinkedHashSet<String>());
      serveAt.accept(moved.owner(handle, named));
    } catch (RuntimeException e) {
      ctx.fail(e);
    }
  }

  /** Serves a request for {@code handle} at the router {@code target} names. */
  private void serveAt(RoutingContext ctx, Principal principal, FeedTarget target, String handle, long offset) {
    ctx.<Set<String>>get(TRIED_OWNERS).add(target.router());
    MultiMap params = ctx.request().params();
    if (!ElectricProtocol.isLive(params)) {
      poll(ctx, target, handle, offset);
      return;
    }
    boolean sse = ElectricProtocol.isSse(params);
    limiter.acquire(principal).onComplete(slot -> {
      if (slot.failed()) {
        ctx.fail(slot.cause());
      } else if (sse) {
        stream(ctx, target, handle, offset, params.get("offset"), params.get("cursor"), slot.result());
      } else {
        longPoll(ctx, target, handle, offset, params.get("cursor"), slot.result());
      }
    });
  }

  /** A 409 must-refetch says why in this header (Freshet's own; Electric's clients ignore it). */
  static final String REFETCH_REASON = "freshet-refetch-reason";
  private static final String RETRY_AT_NEW_OWNER = "freshet.retryAtNewOwner";
  private static final String TRIED_OWNERS = "freshet.triedOwners";
  /**
   * Routers one request may try for its handle. A log can move twice while a request looks for it
   * (a rolling restart: its adopter stops too), and a request that read the map of moved feeds just
   * before a handover finds the log gone from where it looked; each 409 looks the map up again.
   */
  private static final int MAX_OWNERS_TRIED = 4;

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

  /** Feeds of one environment open on the same local router, so that its clients share logs. */
  private String localRouter(String envId) {
    return NodeAddresses.router(nodeId, Math.floorMod(envId.hashCode(), routerInstances));
  }

  private void open(RoutingContext ctx, FeedProtocol.Open request) {
    FeedProtocol.FeedRef feed = request.feed();
    Bus.<FeedProtocol.Answer>askLocal(vertx, localRouter(feed.envId()), request, 30_000).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      FeedProtocol.Answer answer = ar.result();
      HttpServerResponse response = jsonResponse(ctx, answer.handle(), answer.slice().to());
      response.putHeader(ElectricProtocol.SCHEMA, RunColumn.schemaHeader(feed.columns()));
      response.end(answer.slice().electricBody());
    });
  }

  /** A catch-up request (not live): answers at once with whatever the client has not seen. */
  private void poll(RoutingContext ctx, FeedTarget target, String handle, long offset) {
    FeedProtocol.Poll poll = new FeedProtocol.Poll(handle, target.feed(), offset, false, 0, "");
    Bus.<FeedProtocol.Answer>askOwner(vertx, target.router(), poll, Bus.OWNER_TIMEOUT_MS).onComplete(ar -> {
      if (ar.failed()) {
        failPoll(ctx, ar.cause());
        return;
      }
      LogSlice slice = ar.result().slice();
      HttpServerResponse response = jsonResponse(ctx, handle, slice.to());
      response.putHeader(ElectricProtocol.SCHEMA, RunColumn.schemaHeader(target.feed().columns()));
      response.end(slice.electricBody());
    });
  }

  private void longPoll(RoutingContext ctx, FeedTarget target, String handle, long offset, String cursor, Runnable release) {
    long hold = holdMs();
    String pollId = UUID.randomUUID().toString();
    FeedProtocol.Poll poll = new FeedProtocol.Poll(handle, target.feed(), offset, true, hold, pollId);
    boolean[] done = {false};
    Promise<FeedProtocol.Answer> answer = Promise.promise();
    Runnable unhold = sink.holdPoll(target.router(),
        () -> answer.tryFail(new Bus.Gone("the node owning this feed is gone; refetch")));
    ctx.response().closeHandler(v -> {
      if (!done[0]) {
        done[0] = true;
        release.run();
        unhold.run();
        vertx.eventBus().send(target.router(), new FeedProtocol.Cancel(handle, pollId));
      }
    });
    Bus.<FeedProtocol.Answer>askOwner(vertx, target.router(), poll, hold + Bus.OWNER_TIMEOUT_MS).onComplete(ar -> {
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else {
        answer.tryFail(ar.cause());
      }
    });
    answer.future().onComplete(ar -> {
      if (!done[0]) {
        done[0] = true;
        release.run();
        unhold.run();
      }
      if (ctx.response().closed()) {
        return;
      }
      if (ar.failed()) {
        failPoll(ctx, ar.cause());
        return;
      }
      LogSlice slice = ar.result().slice();
      HttpServerResponse response = jsonResponse(ctx, handle, slice.to());
      response.putHeader(ElectricProtocol.CURSOR, ElectricProtocol.cursor(cursor, clock.nowMs()));
      response.end(slice.electricBody());
    });
  }

  /**
   * SSE: the session registers with its sink, which asks the log's router to follow; the headers go
   * out once the router accepts the handle (a refused handle gets a plain 409, not an event).
   */
  private void stream(RoutingContext ctx, FeedTarget target, String handle, long offset, String rawOffset, String cursor,
      Runnable release) {
    HttpServerResponse response = ctx.response();
    SseSession session = new SseSession(new PushProtocol.FeedLog(handle, target.feed()), target.router(),
        new FeedSse(handle, rawOffset, cursor, sseMaxMs, clock), SseSession.Output.of(response), offset, clock.nowMs(), sseMaxBehindEntries,
        release);
    sink.follow(session, cause -> {
      if (!response.closed() && !response.headWritten()) {
        failPoll(ctx, cause);
      }
    });
  }

  private long holdMs() {
    double factor = 1 + jitter * (ThreadLocalRandom.current().nextDouble() * 2 - 1);
    return Math.max(1, Math.round(livePollMs * factor));
  }

  private static HttpServerResponse jsonResponse(RoutingContext ctx, String handle, long seq) {
    HttpServerResponse response = ctx.response();
    return response.setStatusCode(200)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .putHeader(ElectricProtocol.HANDLE, handle)
        .putHeader(ElectricProtocol.OFFSET, ElectricWire.offset(seq))
        .putHeader(ElectricProtocol.UP_TO_DATE, "");
  }

  /** 409 must-refetch for a handle or offset this cluster can no longer serve; anything else goes to the failure handler. */
  private void failPoll(RoutingContext ctx, Throwable cause) {
    java.util.function.Consumer<String> retry = ctx.get(RETRY_AT_NEW_OWNER);
    Set<String> tried = ctx.get(TRIED_OWNERS);
    String handle = ctx.request().getParam("handle");
    if (cause instanceof FreshetException fe && fe.status() == 409 && retry != null && handle != null && !ctx.response().closed()
        && tried.size() < MAX_OWNERS_TRIED) {
      ctx.put(RETRY_AT_NEW_OWNER, null); // set again only when the map names a router not tried yet
      moved.find(handle, tried).onComplete(ar -> {
        if (ar.succeeded() && ar.result() != null && !ctx.response().closed()) {
          ctx.put(RETRY_AT_NEW_OWNER, retry);
          retry.accept(ar.result()); // handed over: the same handle and offset, at the new owner
        } else {
          failPoll(ctx, cause);
        }
      });
      return;
    }
    if (cause instanceof FreshetException fe && fe.status() == 409) {
      HttpServerResponse response = ctx.response();
      response.setStatusCode(409)
          .putHeader("content-type", "application/json")
          .putHeader("cache-control", "no-store")
          .putHeader(ElectricProtocol.HANDLE, nodeId + "-0-0-" + Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 8))
          // Why, for whoever looks (clients ignore it): the only trace a refetch leaves on the wire.
          .putHeader(REFETCH_REASON, String.valueOf(fe.getMessage()).replaceAll("[^\\x20-\\x7e]", "?"))
          .end(ElectricWire.MUST_REFETCH);
      return;
    }
    ctx.fail(cause);
  }

}
