package io.freshet.router;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.freshet.router.engine.BusLagView;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.router.streams.PgStreamSource;
import io.freshet.router.streams.StreamFeeds;
import io.freshet.router.streams.StreamMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's stream router (one per node): subscribes to the stream announcements of the
 * environments whose streams its readers follow, takes follows from the web edge instances, and
 * pushes them what it reads. The decisions live in {@link StreamFeeds}.
 */
public final class StreamRouterVerticle extends VerticleBase {

  private static final long TICK_EVERY_MS = 1000;

  private final List<Pool> reads;
  private final Pool primary;
  private final StreamMetrics metrics;
  private final PrimaryFallbackBudget budget;
  private final List<Meter> meters = new ArrayList<>();
  private StreamFeeds feeds;

  public StreamRouterVerticle(List<Pool> reads, Pool primary, StreamMetrics metrics, PrimaryFallbackBudget budget) {
    this.reads = reads;
    this.primary = primary;
    this.metrics = metrics;
    this.budget = budget;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    Scheduler scheduler = VertxScheduler.on(vertx);
    BusLagView lag = new BusLagView(vertx, scheduler, config.getInt(FreshetConfig.LAG_DEFAULT_MS), reads.size(),
        "worst".equals(config.get(FreshetConfig.GATE_REPLICAS)));
    feeds = new StreamFeeds(RouterSettings.from(config), scheduler, new PgStreamSource(reads, primary, () -> lag.route(null)), lag, budget,
        metrics,
        EnvSubscriptions.on(vertx, NodeAddresses::envStreams, (StreamAnnouncement a) -> feeds.onAnnouncement(a)),
        (sink, pushes) -> vertx.eventBus().send(sink, pushes), config.getInt(FreshetConfig.STREAMS_TAIL_CHUNKS));
    meters.add(Gauge.builder("freshet.streams.followed", feeds, StreamFeeds::logs)
        .description("Streams this node follows for its readers (one log each, shared by all of them).").register(metrics.registry()));
    meters.add(Gauge.builder("freshet.streams.watching.sinks", feeds, StreamFeeds::followingSinks)
        .description("(stream, web edge instance) pairs pushed to.").register(metrics.registry()));
    scheduler.every(TICK_EVERY_MS, feeds::tick);
    MessageConsumer<Object> requests = vertx.eventBus().localConsumer(NodeAddresses.streamRouter(), this::handle);
    return Future.join(requests.completion(), lag.start().completion());
  }

  @Override
  public Future<?> stop() {
    meters.forEach(metrics.registry()::remove);
    return Future.succeededFuture();
  }

  private void handle(Message<Object> message) {
    Object body = message.body();
    if (body instanceof PushProtocol.Follow follow && follow.log() instanceof PushProtocol.Stream stream) {
      feeds.follow(stream.stream(), follow.position(), follow.sink()).onComplete(ar -> {
        if (ar.succeeded()) {
          message.reply(ar.result());
        } else {
          message.fail(ar.cause() instanceof FreshetException fe ? fe.status() : 503, ar.cause().getMessage());
        }
      });
    } else if (body instanceof PushProtocol.Unfollow unfollow) {
      feeds.unfollow(unfollow);
    } else if (body instanceof PushProtocol.Refresh refresh) {
      message.reply(feeds.refresh(refresh));
    } else {
      message.fail(400, "not a stream request: " + body.getClass().getSimpleName());
    }
  }
}
