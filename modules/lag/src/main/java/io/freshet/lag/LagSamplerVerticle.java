package io.freshet.lag;

import io.freshet.core.FreshetConfig;
import io.freshet.producer.Addresses;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One per node: keeps the replica-lag estimate for the routers of this node.
 *
 * <p>Node-local addresses: {@link Addresses#lagTouch()} (any body) keeps sampling alive;
 * {@link Addresses#lagObservations()} takes {@code {"observedMs": n}} (a stale read: a lower bound),
 * {@code {"upperBoundMs": n}} (a read's proof that commits apply within n), {@code {"sampleMs": n}}
 * (a delay routers measured by bracketing an apply between two reads), or {@code {}} to just ask,
 * and replies {@code {"lagMs", "source"}}; the estimate is published on
 * {@link Addresses#lagEstimate()} after every sample and whenever an observation changes it.
 */
public final class LagSamplerVerticle extends VerticleBase {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Pool replica;
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private LagSampler sampler;

  /** {@code replicaOrNull} null: feeds read the primary, the lag is 0 and the gate is skipped. */
  public LagSamplerVerticle(Pool replicaOrNull, MeterRegistry registry) {
    this.replica = replicaOrNull;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    LagSource source = replica == null
        ? new NoReplicaLagSource()
        : new FirstSupportedLagSource(List.of(new AuroraLagSource(replica), new VanillaPgLagSource(replica)));
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(config.getInt(FreshetConfig.LAG_WINDOW_MS),
        config.getInt(FreshetConfig.LAG_DEFAULT_MS), config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_TTL_MS),
        config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_DECAY_MS),
        config.getInt(FreshetConfig.LAG_MAX_MS));
    Map<LagSampler.SampleResult, Counter> samples = new EnumMap<>(LagSampler.SampleResult.class);
    for (LagSampler.SampleResult result : LagSampler.SampleResult.values()) {
      Counter counter = Counter.builder("freshet.lag.samples")
          .description("Replica lag probes, by outcome")
          .tag("result", result.name().toLowerCase(Locale.ROOT))
          .register(registry);
      samples.put(result, counter);
      meters.add(counter);
    }
    EventBus eventBus = vertx.eventBus();
    LagSampler.Listener listener = new LagSampler.Listener() {
      @Override
      public void onSample(LagSampler.SampleResult result) {
        samples.get(result).increment();
      }

      @Override
      public void onEstimate(long lagMs, String sourceName) {
        eventBus.publish(Addresses.lagEstimate(), estimateJson(lagMs, sourceName), LOCAL);
      }
    };
    // A monotonic clock: the estimator only measures intervals, and must not jump with NTP.
    sampler = new LagSampler(source, estimator, new VertxLagScheduler(vertx), () -> System.nanoTime() / 1_000_000,
        config.getInt(FreshetConfig.LAG_SAMPLE_INTERVAL_MS), config.getInt(FreshetConfig.LAG_IDLE_AFTER_MS), listener);
    meters.add(Gauge.builder("freshet.replica.lag.estimate", sampler, LagSampler::lagMs)
        .description("Estimated replica lag behind the primary that gates feed reads")
        .baseUnit("milliseconds")
        .register(registry));

    return Future.all(
        eventBus.localConsumer(Addresses.lagTouch(), message -> sampler.touch()).completion(),
        eventBus.<Object>localConsumer(Addresses.lagObservations(), this::onObservation).completion());
  }

  @Override
  public Future<?> stop() {
    if (sampler != null) {
      sampler.stop();
    }
    // The gauge holds the sampler; a redeployed verticle must register its own.
    meters.forEach(registry::remove);
    return Future.succeededFuture();
  }

  private void onObservation(Message<Object> message) {
    JsonObject body = message.body() instanceof JsonObject json ? json : null;
    Object observed = body == null ? null : body.getValue("observedMs");
    Object upper = body == null ? null : body.getValue("upperBoundMs");
    Object measured = body == null ? null : body.getValue("sampleMs");
    if (message.body() != null && body == null || observed != null && !(observed instanceof Number)
        || upper != null && !(upper instanceof Number) || measured != null && !(measured instanceof Number)) {
      message.fail(400, "expected {\"observedMs\": n}, {\"upperBoundMs\": n}, {\"sampleMs\": n} (milliseconds) or {}");
      return;
    }
    if (observed != null) {
      sampler.noteObserved(((Number) observed).longValue());
    } else if (upper != null) {
      sampler.noteUpperBound(((Number) upper).longValue());
    } else if (measured != null) {
      sampler.noteMeasured(((Number) measured).longValue());
    } else {
      sampler.touch();
    }
    message.reply(estimateJson(sampler.lagMs(), sampler.sourceName()));
  }

  private static JsonObject estimateJson(long lagMs, String sourceName) {
    return new JsonObject().put("lagMs", lagMs).put("source", sourceName);
  }
}
