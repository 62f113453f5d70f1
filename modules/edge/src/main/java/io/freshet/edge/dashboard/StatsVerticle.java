package io.freshet.edge.dashboard;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.freshet.core.stats.StatsProtocol;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

/**
 * One per node: samples the node's meters once a second ({@link NodeStats}) and answers the
 * dashboard's cluster-wide collect with this node's figures and health.
 */
public final class StatsVerticle extends VerticleBase {

  static final long SAMPLE_MS = 1_000;

  private final String nodeId;
  private final Pool primary;
  private final Pool replica;
  private final NodeStats stats;
  private long timer = -1;
  private MessageConsumer<StatsProtocol.Collect> consumer;
  private Scheduler scheduler;

  public StatsVerticle(String nodeId, Pool primary, Pool replica, MeterRegistry registry) {
    this.nodeId = nodeId;
    this.primary = primary;
    this.replica = replica;
    this.stats = new NodeStats(registry);
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    int marginMs = config.getInt(FreshetConfig.GATE_MARGIN_MS);
    String gateMode = config.get(FreshetConfig.GATE_MODE);
    scheduler = VertxScheduler.on(vertx);
    stats.sample(scheduler.nowMs());
    timer = scheduler.every(SAMPLE_MS, () -> stats.sample(scheduler.nowMs()));
    consumer = vertx.eventBus().consumer(NodeAddresses.statsCollect(), message -> {
      StatsProtocol.Collect collect = message.body();
      NodeHealth.check(vertx, nodeId, primary, replica).onSuccess(health -> vertx.eventBus().send(collect.replyTo(),
          new StatsProtocol.NodeReport(nodeId, stats.snapshot(collect.sinceMs()).mergeIn(health).put("gateMode", gateMode)
              .put("gateMarginMs", marginMs))));
    });
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    if (scheduler != null) {
      scheduler.cancel(timer);
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
