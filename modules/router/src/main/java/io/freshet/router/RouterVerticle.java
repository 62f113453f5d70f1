package io.freshet.router;

import io.freshet.core.FreshetConfig;
import io.freshet.producer.Addresses;
import io.freshet.producer.ChangeRecord;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.HashMap;
import java.util.Map;

/**
 * One router instance: subscribes to the change records of the environments it holds feeds for,
 * and answers feed requests (open, poll, cancel) on its clustered address, so a node that receives
 * a poll for a feed owned here can forward it. The decisions live in {@link RouterCore}.
 */
public final class RouterVerticle extends VerticleBase {

  private static final long SWEEP_EVERY_MS = 5000;

  private final String nodeId;
  private final int index;
  private final Pool reads;
  private final Pool primary;
  private final RouterMetrics metrics;
  private final Map<String, MessageConsumer<ChangeRecord>> subscriptions = new HashMap<>();
  private RouterCore core;

  public RouterVerticle(String nodeId, int index, Pool reads, Pool primary, RouterMetrics metrics) {
    this.nodeId = nodeId;
    this.index = index;
    this.reads = reads;
    this.primary = primary;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    RouterSettings settings = RouterSettings.from(config);
    BusLagView lag = new BusLagView(vertx, config.getInt(FreshetConfig.LAG_DEFAULT_MS));
    Scheduler scheduler = new Scheduler() {
      @Override
      public long schedule(long delayMs, Runnable task) {
        return vertx.setTimer(Math.max(1, delayMs), id -> task.run());
      }

      @Override
      public void cancel(long timerId) {
        vertx.cancelTimer(timerId);
      }
    };
    core = new RouterCore(nodeId, index, settings, System::currentTimeMillis, scheduler,
        new PgRunSource(reads, primary), lag, metrics, new RouterCore.Subscriptions() {
          @Override
          public Future<Void> subscribe(String envId) {
            MessageConsumer<ChangeRecord> consumer =
                vertx.eventBus().consumer(Addresses.envChanges(envId), msg -> core.onRecord(msg.body()));
            subscriptions.put(envId, consumer);
            return consumer.completion();
          }

          @Override
          public void unsubscribe(String envId) {
            MessageConsumer<ChangeRecord> consumer = subscriptions.remove(envId);
            if (consumer != null) {
              consumer.unregister();
            }
          }
        });
    String tag = Integer.toString(index);
    Gauge.builder("freshet.feeds", core, RouterCore::feeds).description("Feeds (handles) registered on this router.")
        .tag("router", tag).register(metrics.registry());
    Gauge.builder("freshet.held.feeds", core, RouterCore::heldPolls).description("Live polls currently held.")
        .tag("router", tag).register(metrics.registry());
    vertx.setPeriodic(SWEEP_EVERY_MS, id -> core.sweep());
    MessageConsumer<JsonObject> requests = vertx.eventBus().consumer(Addresses.router(nodeId, index), this::handle);
    return Future.join(requests.completion(), lag.listen().completion());
  }

  private void handle(Message<JsonObject> message) {
    JsonObject body = message.body();
    PollReply reply = new PollReply() {
      @Override
      public void reply(JsonObject answer) {
        message.reply(answer);
      }

      @Override
      public void fail(int status, String text) {
        message.fail(status, text);
      }
    };
    try {
      switch (body.getString("op", "")) {
        case "open" -> core.open(body, reply);
        case "poll" -> core.poll(body, reply);
        case "cancel" -> core.cancel(body);
        default -> reply.fail(400, "unknown router op");
      }
    } catch (io.freshet.core.FreshetException e) {
      reply.fail(e.status(), e.getMessage());
    } catch (RuntimeException e) {
      reply.fail(400, "bad feed request: " + e.getMessage());
    }
  }
}
