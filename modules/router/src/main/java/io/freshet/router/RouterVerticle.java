package io.freshet.router;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.TestHooks;
import io.freshet.core.bus.MembershipChanged;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.freshet.producer.Addresses;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.engine.BusLagView;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.router.feeds.FeedRouter;
import io.freshet.router.feeds.Handovers;
import io.freshet.router.feeds.PgRunSource;
import io.freshet.router.feeds.PollReply;
import io.freshet.router.feeds.RouterMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;

/**
 * One router instance: subscribes to the change records of the environments it holds feed logs
 * for, answers feed requests on its clustered address (a node that receives a poll for a log owned
 * here forwards it), and pushes log growth to the web edge instances following. The decisions live
 * in {@link FeedRouter}.
 */
public final class RouterVerticle extends VerticleBase {

  private static final long TICK_EVERY_MS = 1000;
  private static final long SWEEP_EVERY_MS = 5000;

  private final String nodeId;
  private final int index;
  private final List<Pool> reads;
  private final Pool primary;
  private final RouterMetrics metrics;
  private final PrimaryFallbackBudget budget;
  private final List<Meter> meters = new ArrayList<>();
  private FeedRouter feeds;
  private MessageConsumer<Object> adoptions;
  private volatile boolean stopping;
  private long shapeIdleTtlMs;
  private static final long HANDOVER_TIMEOUT_MS = 3000;
  /** The body of a {@link NodeAddresses#routerHandOver} request that only stops adopting (the first of the two steps). */
  public static final String STOP_ADOPTING = "stop-adopting";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RouterVerticle.class);

  public RouterVerticle(String nodeId, int index, List<Pool> reads, Pool primary, RouterMetrics metrics, PrimaryFallbackBudget budget) {
    this.nodeId = nodeId;
    this.index = index;
    this.reads = reads;
    this.primary = primary;
    this.metrics = metrics;
    this.budget = budget;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    boolean testHooks = config.get(FreshetConfig.TEST_HOOKS);
    Scheduler scheduler = VertxScheduler.on(vertx);
    BusLagView lag = new BusLagView(vertx, scheduler, config.getInt(FreshetConfig.LAG_DEFAULT_MS), reads.size(),
        "worst".equals(config.get(FreshetConfig.GATE_REPLICAS)));
    feeds = new FeedRouter(nodeId, index, RouterSettings.from(config), scheduler, new PgRunSource(reads, primary, () -> lag.route(null)),
        lag, metrics, budget,
        EnvSubscriptions.on(vertx, Addresses::envChanges, (ChangeRecord record) -> {
          if (!testHooks || !TestHooks.on(vertx, TestHooks.DROP_CHANGE_RECORDS)) {
            feeds.onRecord(record);
          }
        }), (sink, pushes) -> vertx.eventBus().send(sink, pushes));
    String tag = Integer.toString(index);
    meters.add(Gauge.builder("freshet.feeds", feeds, FeedRouter::logs)
        .description("Feed logs (handles) on this router; each is shared by every client of its feed.").tag("router", tag).register(metrics.registry()));
    meters.add(Gauge.builder("freshet.held.feeds", feeds, FeedRouter::heldPolls)
        .description("Live connections held: long-polls held on a router, SSE sessions open on a web edge instance.")
        .tag("kind", "long-poll").tag("instance", "router-" + tag).register(metrics.registry()));
    meters.add(Gauge.builder("freshet.watching.sinks", feeds, FeedRouter::followingSinks)
        .description("(log, web edge instance) pairs pushed to for SSE sessions.").tag("router", tag).register(metrics.registry()));
    meters.add(Gauge.builder("freshet.stalled.runs", feeds, FeedRouter::watchedRuns)
        .description("Runs whose latest change the replica has not applied yet, watched until it does.").tag("router", tag).register(metrics.registry()));
    scheduler.every(TICK_EVERY_MS, feeds::tick);
    scheduler.every(SWEEP_EVERY_MS, feeds::sweep);
    MessageConsumer<Object> requests = vertx.eventBus().consumer(NodeAddresses.router(nodeId, index), this::handle);
    MessageConsumer<MembershipChanged> membership = vertx.eventBus().localConsumer(NodeAddresses.membershipChanged(), m -> feeds.resync());
    shapeIdleTtlMs = config.getInt(FreshetConfig.ROUTER_SHAPE_IDLE_TTL_MS);
    adoptions = vertx.eventBus().consumer(NodeAddresses.feedAdoptions(), this::adopt);
    MessageConsumer<Object> handOver = vertx.eventBus().localConsumer(NodeAddresses.routerHandOver(nodeId, index), m -> handOver(m));
    return Future.join(requests.completion(), membership.completion(), lag.start().completion(), adoptions.completion(),
        handOver.completion());
  }

  // --- a graceful stop hands the logs over ------------------------------------------------------

  /**
   * A log another node is handing over: served here from now on under its handle. Refused (and
   * the stopping node asks again, reaching another router) when this node is stopping too.
   */
  private void adopt(Message<Object> message) {
    if (!(message.body() instanceof FeedProtocol.Handover handover)) {
      message.fail(400, "expected a FeedProtocol.Handover");
      return;
    }
    if (stopping) {
      message.fail(503, "this node is stopping too");
      return;
    }
    feeds.adopt(handover);
    message.reply(new FeedProtocol.Adopted(NodeAddresses.router(nodeId, index)));
  }

  /**
   * The node is stopping: first every router of the node stops adopting (so that no log is handed
   * to a sibling), then each hands its open logs to routers of other nodes ({@link Handovers}).
   * Replies with how many logs moved.
   */
  private void handOver(Message<Object> message) {
    stopping = true;
    if (STOP_ADOPTING.equals(message.body())) {
      (adoptions == null ? Future.<Void>succeededFuture() : adoptions.unregister()).onComplete(ar -> message.reply(0));
      return;
    }
    vertx.sharedData().<String, String>getAsyncMap(NodeAddresses.MOVED_FEEDS_MAP)
        .compose(moved -> new Handovers(feeds, cluster(moved)).handOverAll())
        .onFailure(e -> message.reply(0))
        .onSuccess(result -> {
          if (result.of() > 0) {
            log.info("router {}: handed {} of {} feed logs to other nodes", index, result.moved(), result.of());
          }
          metrics.handedOver(result.moved());
          message.reply(result.moved());
        });
  }

  private Handovers.Cluster cluster(AsyncMap<String, String> moved) {
    return new Handovers.Cluster() {
      @Override
      public Future<String> adopt(FeedProtocol.Handover handover) {
        return vertx.eventBus().<FeedProtocol.Adopted>request(NodeAddresses.feedAdoptions(), handover,
                new DeliveryOptions().setSendTimeout(HANDOVER_TIMEOUT_MS))
            .map(reply -> reply.body().router())
            .recover(e -> Future.failedFuture(e instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
                ? new Handovers.NobodyAdopts() : e));
      }

      @Override
      public Future<Void> recordMove(String handle, String router) {
        return moved.put(handle, router, shapeIdleTtlMs);
      }

      @Override
      public void tell(String sink, PushProtocol.Moved notice) {
        vertx.eventBus().send(sink, notice);
      }
    };
  }

  @Override
  public Future<?> stop() {
    meters.forEach(metrics.registry()::remove);
    return Future.succeededFuture();
  }

  private void handle(Message<Object> message) {
    PollReply reply = new PollReply() {
      @Override
      public void answer(String handle, LogSlice slice) {
        message.reply(new FeedProtocol.Answer(handle, slice));
      }

      @Override
      public void fail(int status, String text) {
        message.fail(status, text);
      }
    };
    try {
      Object body = message.body();
      if (body instanceof FeedProtocol.Open open) {
        feeds.open(open, reply);
      } else if (body instanceof FeedProtocol.Poll poll) {
        feeds.poll(poll, reply);
      } else if (body instanceof FeedProtocol.Cancel cancel) {
        feeds.cancel(cancel);
      } else if (body instanceof PushProtocol.Follow follow && follow.log() instanceof PushProtocol.FeedLog log) {
        message.reply(feeds.follow(log, follow.position(), follow.sink()));
      } else if (body instanceof PushProtocol.Unfollow unfollow) {
        feeds.unfollow(unfollow);
      } else if (body instanceof PushProtocol.Refresh refresh) {
        message.reply(feeds.refresh(refresh));
      } else {
        reply.fail(400, "not a feed request: " + body.getClass().getSimpleName());
      }
    } catch (FreshetException e) {
      reply.fail(e.status(), e.getMessage());
    } catch (RuntimeException e) {
      reply.fail(400, "bad feed request: " + e.getMessage());
    }
  }
}
