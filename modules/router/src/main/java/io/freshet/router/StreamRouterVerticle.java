package io.freshet.router;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetConfig;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamProtocol;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's stream router (one per node): subscribes to the stream announcements of the
 * environments whose streams its readers follow, takes watches from the web edge instances, and
 * pushes them what it reads. The decisions live in {@link StreamFeeds}.
 */
public final class StreamRouterVerticle extends VerticleBase {

  private static final long TICK_EVERY_MS = 1000;

  private final Pool reads;
  private final Pool primary;
  private final StreamMetrics metrics;
  private final PrimaryFallbackBudget budget;
  private final Map<String, MessageConsumer<JsonObject>> subscriptions = new HashMap<>();
  private final List<Meter> meters = new ArrayList<>();
  private StreamFeeds feeds;

  public StreamRouterVerticle(Pool reads, Pool primary, StreamMetrics metrics, PrimaryFallbackBudget budget) {
    this.reads = reads;
    this.primary = primary;
    this.metrics = metrics;
    this.budget = budget;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    BusLagView lag = new BusLagView(vertx, config.getInt(FreshetConfig.LAG_DEFAULT_MS));
    Scheduler scheduler = Scheduler.on(vertx);
    feeds = new StreamFeeds(RouterSettings.from(config), System::currentTimeMillis, scheduler, new PgStreamSource(reads, primary), lag,
        budget, metrics, new StreamFeeds.Subscriptions() {
          @Override
          public Future<Void> subscribe(String envId) {
            MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(NodeAddresses.envStreams(envId),
                msg -> feeds.onAnnouncement(StreamAnnouncement.fromJson(msg.body())));
            subscriptions.put(envId, consumer);
            return consumer.completion();
          }

          @Override
          public void unsubscribe(String envId) {
            MessageConsumer<JsonObject> consumer = subscriptions.remove(envId);
            if (consumer != null) {
              consumer.unregister();
            }
          }
        }, (sink, pushes) -> vertx.eventBus().send(sink, new StreamProtocol.Pushes(pushes)),
        config.getInt(FreshetConfig.STREAMS_TAIL_CHUNKS));
    meters.add(Gauge.builder("freshet.streams.followed", feeds, StreamFeeds::logs)
        .description("Streams this node follows for its readers (one log each, shared by all of them).").register(metrics.registry()));
    meters.add(Gauge.builder("freshet.streams.watching.sinks", feeds, StreamFeeds::watchingSinks)
        .description("(stream, web edge instance) pairs pushed to.").register(metrics.registry()));
    vertx.setPeriodic(TICK_EVERY_MS, id -> feeds.tick());
    MessageConsumer<StreamProtocol.Message> requests = vertx.eventBus().localConsumer(NodeAddresses.streamRouter(), this::handle);
    return Future.join(requests.completion(), lag.start().completion());
  }

  @Override
  public Future<?> stop() {
    meters.forEach(metrics.registry()::remove);
    return Future.succeededFuture();
  }

  private void handle(Message<StreamProtocol.Message> message) {
    if (message.body() instanceof StreamProtocol.Watch watch) {
      feeds.watch(watch.stream(), watch.afterSeq(), watch.sink(), new StreamFeeds.WatchReply() {
        @Override
        public void caught(StreamProtocol.Caught caught) {
          message.reply(caught);
        }

        @Override
        public void fail(int status, String text) {
          message.fail(status, text);
        }
      });
    } else if (message.body() instanceof StreamProtocol.Unwatch unwatch) {
      feeds.unwatch(unwatch.stream(), unwatch.sink());
    } else {
      message.fail(400, "not a stream request: " + message.body().getClass().getSimpleName());
    }
  }
}
