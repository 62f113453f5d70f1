package io.freshet.lag;

import io.freshet.core.FreshetConfig;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.lag.Estimate;
import io.freshet.core.lag.Evidence;
import io.freshet.core.lag.Heartbeat;
import io.freshet.core.lag.HeartbeatDemand;
import io.freshet.core.lag.LagState;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One per node: keeps the replica-lag estimate for the routers of this node.
 *
 * <p>Node-local addresses: {@link NodeAddresses#lagTouch()} (any body, a {@code Touch} from
 * routers) keeps sampling alive; {@link NodeAddresses#lagEvidence()} takes an {@link Evidence}
 * and replies with the {@link Estimate}; the estimate is published on
 * {@link NodeAddresses#lagEstimate()} after every sample and whenever evidence changes it, with
 * {@code replayedAtMs} when the replica's replay moved. {@link NodeAddresses#lagState()} answers
 * {@code /health}'s question about the replica with a {@link LagState}.
 *
 * <p>Cluster-wide: with a replica and {@code lag.heartbeat}, the node that {@code heartbeatWriter}
 * says writes the heartbeat while some node demands it ({@link NodeAddresses#lagHeartbeatDemand()},
 * sent while a node samples) and announces each beat on {@link NodeAddresses#lagHeartbeats()}; every
 * node's {@link HeartbeatProbe} times its own replica's apply of it.
 *
 * <p>The sampler, the probe and the writer share the node's one clock and timers ({@link VertxScheduler}).
 */
public final class LagSamplerVerticle extends VerticleBase {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final long DEMAND_EVERY_MS = 1000;

  private final Pool replica;
  private final Pool primary;
  private final BooleanSupplier heartbeatWriter;
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private Scheduler scheduler;
  private LagSampler sampler;
  private long lastSampleOkMs = -1;
  private String lastError;
  private long lastDemandMs;
  private long writerTimer = -1;

  /**
   * @param replicaOrNull null: feeds read the primary, the lag is 0 and the gate is skipped
   * @param heartbeatWriter whether this node is the cluster's heartbeat writer right now
   */
  public LagSamplerVerticle(Pool replicaOrNull, Pool primary, BooleanSupplier heartbeatWriter, MeterRegistry registry) {
    this.replica = replicaOrNull;
    this.primary = primary;
    this.heartbeatWriter = heartbeatWriter;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    int interval = config.getInt(FreshetConfig.LAG_SAMPLE_INTERVAL_MS);
    int idleAfter = config.getInt(FreshetConfig.LAG_IDLE_AFTER_MS);
    LagSource source = replica == null
        ? new NoReplicaLagSource()
        : new FirstSupportedLagSource(List.of(new AuroraLagSource(replica), new VanillaPgLagSource(replica)));
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(config.getInt(FreshetConfig.LAG_WINDOW_MS),
        config.getInt(FreshetConfig.LAG_DEFAULT_MS), config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_TTL_MS),
        config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_DECAY_MS),
        config.getInt(FreshetConfig.LAG_MAX_MS)).preciseWindows(Math.max(500, 2L * interval), Math.max(10_000, 10L * interval));
    Map<LagSampler.SampleResult, Counter> samples = new EnumMap<>(LagSampler.SampleResult.class);
    for (LagSampler.SampleResult result : LagSampler.SampleResult.values()) {
      Counter counter = Counter.builder("freshet.lag.samples")
          .description("Replica lag probes (samples and heartbeat reads that measured), by outcome")
          .tag("result", result.name().toLowerCase(Locale.ROOT))
          .register(registry);
      samples.put(result, counter);
      meters.add(counter);
    }
    EventBus eventBus = vertx.eventBus();
    scheduler = VertxScheduler.on(vertx);
    LagSampler.Listener listener = new LagSampler.Listener() {
      @Override
      public void onSample(LagSampler.SampleResult result) {
        samples.get(result).increment();
        if (result == LagSampler.SampleResult.ERROR) {
          lastError = "the replica did not answer the last probe";
        } else {
          lastSampleOkMs = scheduler.nowMs();
          lastError = null;
        }
      }

      @Override
      public void onEstimate(long lagMs, String sourceName) {
        eventBus.publish(NodeAddresses.lagEstimate(), new Estimate(lagMs, sourceName), LOCAL);
      }

      @Override
      public void onProgress(long replayedAtMs) {
        eventBus.publish(NodeAddresses.lagEstimate(), new Estimate(sampler.lagMs(), sampler.sourceName(), replayedAtMs), LOCAL);
      }
    };
    sampler = new LagSampler(source, estimator, scheduler, interval, idleAfter, listener);
    meters.add(Gauge.builder("freshet.replica.lag.estimate", sampler, LagSampler::lagMs)
        .description("Estimated replica lag behind the primary that gates feed reads")
        .baseUnit("milliseconds")
        .register(registry));

    List<Future<?>> registered = new ArrayList<>();
    registered.add(eventBus.localConsumer(NodeAddresses.lagTouch(), message -> touch()).completion());
    registered.add(eventBus.localConsumer(NodeAddresses.lagEvidence(), this::onEvidence).completion());
    registered.add(eventBus.localConsumer(NodeAddresses.lagState(), message -> message.reply(state())).completion());
    if (replica != null && config.get(FreshetConfig.LAG_HEARTBEAT)) {
      HeartbeatWriter writer = new HeartbeatWriter(() -> HeartbeatRow.write(primary), heartbeatWriter,
          beat -> eventBus.publish(NodeAddresses.lagHeartbeats(), beat), scheduler, idleAfter);
      HeartbeatProbe probe = new HeartbeatProbe(() -> HeartbeatRow.read(replica), scheduler, sampler::lagMs, interval,
          sampler.heartbeatReports());
      sampler.attach(probe);
      registered.add(eventBus.<Heartbeat>consumer(NodeAddresses.lagHeartbeats(), message -> probe.onBeat(message.body())).completion());
      registered.add(eventBus.consumer(NodeAddresses.lagHeartbeatDemand(), message -> writer.demand()).completion());
      writerTimer = scheduler.every(interval, writer::tick);
    }
    return Future.all(registered).onSuccess(v -> {
      if (replica != null) {
        touch(); // honest from the first second: measure once at start, before any feed asks
      }
    });
  }

  @Override
  public Future<?> stop() {
    if (sampler != null) {
      sampler.stop();
    }
    if (scheduler != null) {
      scheduler.cancel(writerTimer);
    }
    // The gauge holds the sampler; a redeployed verticle must register its own.
    meters.forEach(registry::remove);
    return Future.succeededFuture();
  }

  /** Feeds are active here: sample, and ask the cluster's heartbeat writer to write. */
  private void touch() {
    sampler.touch();
    long now = scheduler.nowMs();
    if (replica != null && now - lastDemandMs >= DEMAND_EVERY_MS) {
      lastDemandMs = now;
      vertx.eventBus().publish(NodeAddresses.lagHeartbeatDemand(), new HeartbeatDemand());
    }
  }

  private LagState state() {
    Long lastMeasuredAgoMs = replica != null && lastSampleOkMs >= 0 ? scheduler.nowMs() - lastSampleOkMs : null;
    return new LagState(sampler.lagMs(), sampler.sourceName(), sampler.isSampling(), lastError, lastMeasuredAgoMs);
  }

  private void onEvidence(Message<Object> message) {
    if (!(message.body() instanceof Evidence evidence)) {
      // Only a sender that bypassed the typed protocol gets here; tell it rather than drop it.
      message.fail(400, "expected an io.freshet.core.lag.Evidence");
      return;
    }
    if (evidence instanceof Evidence.Observed observed) {
      sampler.noteObserved(observed.lagMs());
    } else if (evidence instanceof Evidence.UpperBound upper) {
      sampler.noteUpperBound(upper.lagMs());
    } else if (evidence instanceof Evidence.Measured measured) {
      sampler.noteMeasured(measured.lagMs());
    } else {
      touch();
    }
    message.reply(new Estimate(sampler.lagMs(), sampler.sourceName()));
  }
}
