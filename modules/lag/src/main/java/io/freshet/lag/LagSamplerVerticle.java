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
import io.micrometer.core.instrument.Tags;
import io.freshet.store.ReplicaPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * One per node: keeps a lag estimate per read replica for the routers of this node, and says which
 * replicas are in rotation.
 *
 * <p>Node-local addresses: {@link NodeAddresses#lagTouch()} (any body, a {@code Touch} from
 * routers) keeps sampling alive; {@link NodeAddresses#lagEvidence()} takes an {@link Evidence}
 * about one replica and replies with that replica's {@link Estimate}; each replica's estimate is
 * published on {@link NodeAddresses#lagEstimate()} after every sample, whenever evidence changes
 * it, with {@code replayedAtMs} when its replay moved, and whenever it leaves or rejoins the
 * rotation. {@link NodeAddresses#lagState()} answers {@code /health}'s question about the replicas
 * with a {@link LagState}.
 *
 * <p>Each replica has its own {@link LagSampler} (its own source, estimator and heartbeat probe)
 * and its own {@link Rotation}; a move in or out of the rotation is logged once per node and
 * counted in {@code freshet_replica_rotation_moves_total}.
 *
 * <p>Cluster-wide: with a replica and {@code lag.heartbeat}, the node that {@code heartbeatWriter}
 * says writes the heartbeat while some node demands it ({@link NodeAddresses#lagHeartbeatDemand()},
 * sent while a node samples) and announces each beat on {@link NodeAddresses#lagHeartbeats()}; every
 * node's {@link HeartbeatProbe}s time each replica's apply of it.
 *
 * <p>The samplers, the probes and the writer share the node's one clock and timers ({@link VertxScheduler}).
 */
public final class LagSamplerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LagSamplerVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final long DEMAND_EVERY_MS = 1000;

  private final List<ReplicaPool> replicas;
  private final Pool primary;
  private final BooleanSupplier heartbeatWriter;
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private final List<Track> tracks = new ArrayList<>();
  private Scheduler scheduler;
  private LagSampler noReplica;
  private long lastDemandMs;
  private long writerTimer = -1;

  /** One replica as the sampler follows it. */
  private final class Track {
    final ReplicaPool replica;
    final Rotation rotation;
    LagSampler sampler;
    long lastSampleOkMs = -1;
    String lastError;

    Track(ReplicaPool replica, Rotation rotation) {
      this.replica = replica;
      this.rotation = rotation;
    }

    Estimate estimate(Long replayedAtMs) {
      return new Estimate(replica.index(), sampler.lagMs(), sampler.sourceName(), replayedAtMs, rotation.inRotation());
    }

    void moved() {
      boolean in = rotation.inRotation();
      if (in) {
        LOG.info("replica {} ({}) rejoins the rotation: lag estimate {} ms", replica.name(), replica.endpoint(), sampler.lagMs());
      } else {
        LOG.warn("replica {} ({}) leaves the rotation ({}): lag estimate {} ms{}", replica.name(), replica.endpoint(), rotation.why(),
            sampler.lagMs(), lastError == null ? "" : ", " + lastError);
      }
      Counter.builder("freshet.replica.rotation.moves").description("Read replicas leaving (to=out) and rejoining (to=in) the rotation")
          .tag("replica", replica.name()).tag("to", in ? "in" : "out").register(registry).increment();
      publish(null);
    }

    void publish(Long replayedAtMs) {
      vertx.eventBus().publish(NodeAddresses.lagEstimate(), estimate(replayedAtMs), LOCAL);
    }
  }

  /**
   * @param replicas the read replicas (empty: feeds read the primary, the lag is 0 and the gate is skipped)
   * @param heartbeatWriter whether this node is the cluster's heartbeat writer right now
   */
  public LagSamplerVerticle(List<ReplicaPool> replicas, Pool primary, BooleanSupplier heartbeatWriter, MeterRegistry registry) {
    this.replicas = List.copyOf(replicas);
    this.primary = primary;
    this.heartbeatWriter = heartbeatWriter;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    int interval = config.getInt(FreshetConfig.LAG_SAMPLE_INTERVAL_MS);
    int idleAfter = config.getInt(FreshetConfig.LAG_IDLE_AFTER_MS);
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
    boolean heartbeat = !replicas.isEmpty() && config.get(FreshetConfig.LAG_HEARTBEAT);
    AuroraRows auroraRows = AuroraRows.parse(config.get(FreshetConfig.LAG_AURORA_ROWS));
    List<HeartbeatProbe> probes = new ArrayList<>();
    for (ReplicaPool replica : replicas) {
      Track track = new Track(replica, new Rotation(config.getInt(FreshetConfig.DB_REPLICA_LEAVE_ABOVE_MS)));
      LagSampler.Listener listener = new LagSampler.Listener() {
        @Override
        public void onSample(LagSampler.SampleResult result) {
          samples.get(result).increment();
          boolean moved;
          if (result == LagSampler.SampleResult.ERROR) {
            track.lastError = "the replica did not answer the last probe";
            moved = track.rotation.failed(track.sampler.lagMs());
          } else {
            track.lastSampleOkMs = scheduler.nowMs();
            track.lastError = null;
            moved = track.rotation.answered(track.sampler.lagMs(), result == LagSampler.SampleResult.MEASURED);
          }
          if (moved) {
            track.moved();
          }
        }

        @Override
        public void onEstimate(long lagMs, String sourceName) {
          if (track.rotation.estimated(lagMs)) {
            track.moved();
          } else {
            track.publish(null);
          }
        }

        @Override
        public void onProgress(long replayedAtMs) {
          track.publish(replayedAtMs);
        }
      };
      track.sampler = new LagSampler(
          new FirstSupportedLagSource(List.of(
              new AuroraLagSource(replica.pool(), auroraRows.forHost(replica.host()), "replica " + replica.name() + " (" + replica.endpoint() + ")"),
              new VanillaPgLagSource(replica.pool()))),
          estimator(config, interval), scheduler, interval, idleAfter, listener);
      if (heartbeat) {
        HeartbeatProbe probe = new HeartbeatProbe(() -> HeartbeatRow.read(replica.pool()), scheduler, track.sampler::lagMs, interval,
            track.sampler.heartbeatReports());
        track.sampler.attach(probe);
        probes.add(probe);
      }
      Tags tags = Tags.of("replica", replica.name());
      meters.add(Gauge.builder("freshet.replica.lag", track.sampler, LagSampler::lagMs).tags(tags)
          .description("Estimated lag of each read replica").baseUnit("milliseconds").register(registry));
      meters.add(Gauge.builder("freshet.replica.in.rotation", track.rotation, r -> r.inRotation() ? 1 : 0).tags(tags)
          .description("1 while reads may go to the replica, 0 while it is out (down, paused, far behind)").register(registry));
      tracks.add(track);
    }
    if (replicas.isEmpty()) {
      LagSampler.Listener listener = new LagSampler.Listener() {
        @Override
        public void onSample(LagSampler.SampleResult result) {
          samples.get(result).increment();
        }

        @Override
        public void onEstimate(long lagMs, String sourceName) {
          eventBus.publish(NodeAddresses.lagEstimate(), new Estimate(0, lagMs, sourceName), LOCAL);
        }
      };
      noReplica = new LagSampler(new NoReplicaLagSource(), estimator(config, interval), scheduler, interval, idleAfter, listener);
    }
    meters.add(Gauge.builder("freshet.replica.lag.estimate", this, LagSamplerVerticle::gateLagMs)
        .description("The lag the gate waits on: the fastest read replica in rotation")
        .baseUnit("milliseconds")
        .register(registry));

    List<Future<?>> registered = new ArrayList<>();
    registered.add(eventBus.localConsumer(NodeAddresses.lagTouch(), message -> touch()).completion());
    registered.add(eventBus.localConsumer(NodeAddresses.lagEvidence(), this::onEvidence).completion());
    registered.add(eventBus.localConsumer(NodeAddresses.lagState(), message -> message.reply(state())).completion());
    if (heartbeat) {
      HeartbeatWriter writer = new HeartbeatWriter(() -> HeartbeatRow.write(primary), heartbeatWriter,
          beat -> eventBus.publish(NodeAddresses.lagHeartbeats(), beat), scheduler, idleAfter);
      registered.add(eventBus.<Heartbeat>consumer(NodeAddresses.lagHeartbeats(), message -> probes.forEach(p -> p.onBeat(message.body())))
          .completion());
      registered.add(eventBus.consumer(NodeAddresses.lagHeartbeatDemand(), message -> writer.demand()).completion());
      writerTimer = scheduler.every(interval, writer::tick);
    }
    return Future.all(registered).onSuccess(v -> {
      if (!replicas.isEmpty()) {
        touch(); // honest from the first second: measure once at start, before any feed asks
      }
    });
  }

  private static ReplicaLagEstimator estimator(FreshetConfig config, int interval) {
    return new ReplicaLagEstimator(config.getInt(FreshetConfig.LAG_WINDOW_MS),
        config.getInt(FreshetConfig.LAG_DEFAULT_MS), config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_TTL_MS),
        config.getInt(FreshetConfig.LAG_OBSERVED_FLOOR_DECAY_MS),
        config.getInt(FreshetConfig.LAG_MAX_MS)).preciseWindows(Math.max(500, 2L * interval), Math.max(10_000, 10L * interval));
  }

  @Override
  public Future<?> stop() {
    tracks.forEach(t -> t.sampler.stop());
    if (noReplica != null) {
      noReplica.stop();
    }
    if (scheduler != null) {
      scheduler.cancel(writerTimer);
    }
    // The gauges hold the samplers; a redeployed verticle must register its own.
    meters.forEach(registry::remove);
    return Future.succeededFuture();
  }

  /** The replica the gate waits on: the fastest in rotation, else the fastest of all; null without a replica. */
  private Track gateTrack() {
    Track best = null;
    boolean bestIn = false;
    for (Track t : tracks) {
      boolean in = t.rotation.inRotation();
      if (best == null || in && !bestIn || in == bestIn && t.sampler.lagMs() < best.sampler.lagMs()) {
        best = t;
        bestIn = in;
      }
    }
    return best;
  }

  private long gateLagMs() {
    Track gate = gateTrack();
    return gate == null ? noReplica.lagMs() : gate.sampler.lagMs();
  }

  /** Feeds are active here: sample, and ask the cluster's heartbeat writer to write. */
  private void touch() {
    if (replicas.isEmpty()) {
      noReplica.touch();
      return;
    }
    tracks.forEach(t -> t.sampler.touch());
    long now = scheduler.nowMs();
    if (now - lastDemandMs >= DEMAND_EVERY_MS) {
      lastDemandMs = now;
      vertx.eventBus().publish(NodeAddresses.lagHeartbeatDemand(), new HeartbeatDemand());
    }
  }

  private LagState state() {
    Track gate = gateTrack();
    if (gate == null) {
      return new LagState(noReplica.lagMs(), noReplica.sourceName(), noReplica.isSampling(), null, null, List.of());
    }
    Long lastMeasuredAgoMs = gate.lastSampleOkMs >= 0 ? scheduler.nowMs() - gate.lastSampleOkMs : null;
    List<LagState.Replica> each = tracks.stream().map(t -> new LagState.Replica(t.replica.name(), t.replica.endpoint(),
        t.sampler.lagMs(), t.rotation.inRotation(), t.lastError)).toList();
    return new LagState(gate.sampler.lagMs(), gate.sampler.sourceName(), gate.sampler.isSampling(), gate.lastError, lastMeasuredAgoMs,
        each);
  }

  private void onEvidence(Message<Object> message) {
    if (!(message.body() instanceof Evidence evidence)) {
      // Only a sender that bypassed the typed protocol gets here; tell it rather than drop it.
      message.fail(400, "expected an io.freshet.core.lag.Evidence");
      return;
    }
    if (tracks.isEmpty()) {
      // Feeds read the primary: the estimate stays what evidence makes it (0 without any).
      if (evidence instanceof Evidence.Observed observed) {
        noReplica.noteObserved(observed.lagMs());
      } else if (evidence instanceof Evidence.Ask) {
        touch();
      }
      message.reply(new Estimate(0, noReplica.lagMs(), noReplica.sourceName()));
      return;
    }
    Track track;
    if (evidence instanceof Evidence.Observed observed) {
      track = track(observed.replica());
      track.sampler.noteObserved(observed.lagMs());
    } else if (evidence instanceof Evidence.UpperBound upper) {
      track = track(upper.replica());
      track.sampler.noteUpperBound(upper.lagMs());
    } else if (evidence instanceof Evidence.Measured measured) {
      track = track(measured.replica());
      track.sampler.noteMeasured(measured.lagMs());
    } else {
      touch();
      tracks.forEach(t -> t.publish(null));
      track = tracks.get(0);
    }
    message.reply(track.estimate(null));
  }

  private Track track(int replica) {
    return tracks.get(Math.max(0, Math.min(tracks.size() - 1, replica)));
  }
}
