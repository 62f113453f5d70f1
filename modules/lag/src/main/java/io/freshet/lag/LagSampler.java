package io.freshet.lag;

import io.freshet.core.time.Scheduler;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples a {@link LagSource} into a {@link ReplicaLagEstimator} while feeds are active.
 *
 * <p>{@link #touch()} (a feed subscribed, a batch was delivered) starts sampling every
 * {@code sampleIntervalMs}, with an immediate first sample; sampling stops by itself once nothing
 * has touched it for {@code idleAfterMs}, so an idle node puts no load on the replica. Samples
 * never overlap: a tick that finds one in flight is skipped, so a slow replica gets at most one
 * probe at a time. A failing source only loses its sample; the estimate keeps what it knew.
 *
 * <p>Time and timers come in through the node's {@link Scheduler}, so tests drive it with a fake
 * one. Its clock is the wall clock, where intervals would rather have a monotonic one; that is
 * acceptable because the time only ages samples and observations over windows of seconds, so a
 * clock step shifts their ages once: a step back holds the estimate up longer (over-waiting,
 * safe), a step forward lets it fall back early (the next stale read's tripwire observation widens
 * it again). The gate compares the same clock with the primary's watermarks, so the node already
 * relies on it being steady. Not thread-safe: call it from one context (the lag-sampler
 * verticle's event loop).
 */
public final class LagSampler {

  private static final Logger LOG = LoggerFactory.getLogger(LagSampler.class);

  /** How a sample ended. */
  public enum SampleResult {
    MEASURED, UNMEASURABLE, ERROR
  }

  /** Told about every completed sample and every change of the estimate. */
  public interface Listener {
    default void onSample(SampleResult result) {}

    /** After every sample and whenever an observation changes the estimate. */
    default void onEstimate(long lagMs, String sourceName) {}

    /** The replica replayed a newer commit, committed at {@code replayedAtMs} (primary clock). */
    default void onProgress(long replayedAtMs) {}
  }

  private final LagSource source;
  private final ReplicaLagEstimator estimator;
  private final Scheduler scheduler;
  private final long sampleIntervalMs;
  private final long idleAfterMs;
  private final Listener listener;

  private long lastTouchMs;
  private long timerId = -1;
  private boolean inFlight;
  private boolean sourceFailing;
  private boolean probeFailing;
  private HeartbeatProbe probe;
  private Long lastReplayedAtMs;

  public LagSampler(LagSource source, ReplicaLagEstimator estimator, Scheduler scheduler, long sampleIntervalMs, long idleAfterMs,
      Listener listener) {
    if (sampleIntervalMs <= 0) {
      throw new IllegalArgumentException("lag sampler: sampleIntervalMs must be > 0");
    }
    this.source = source;
    this.estimator = estimator;
    this.scheduler = scheduler;
    this.sampleIntervalMs = sampleIntervalMs;
    this.idleAfterMs = idleAfterMs;
    this.listener = listener == null ? new Listener() {} : listener;
  }

  public LagSampler(LagSource source, ReplicaLagEstimator estimator, Scheduler scheduler, long sampleIntervalMs, long idleAfterMs) {
    this(source, estimator, scheduler, sampleIntervalMs, idleAfterMs, null);
  }

  /** Feeds are active: keep sampling, and start now if sampling had stopped. */
  public void touch() {
    lastTouchMs = scheduler.nowMs();
    if (timerId < 0) {
      timerId = scheduler.every(sampleIntervalMs, this::tick);
      if (probe != null) {
        probe.active(true);
      }
      sampleNow();
    }
  }

  /** The precise source that runs beside the sampled one: the heartbeat probe, active while the sampler is. */
  void attach(HeartbeatProbe probe) {
    this.probe = probe;
    if (isSampling()) {
      probe.active(true);
    }
  }

  /** Where the heartbeat probe reports: its measurements drive the estimate ({@link ReplicaLagEstimator#recordPrecise}). */
  HeartbeatProbe.Reports heartbeatReports() {
    return new HeartbeatProbe.Reports() {
      @Override
      public void measured(long lagMs, boolean upperOnly) {
        if (probeFailing) {
          LOG.info("replica lag heartbeat measures again");
          probeFailing = false;
        }
        listener.onSample(SampleResult.MEASURED);
        changing(now -> estimator.recordPrecise(now, lagMs, upperOnly));
      }

      @Override
      public void unapplied(long ageMs) {
        changing(now -> estimator.noteUnapplied(now, ageMs));
      }

      @Override
      public void progressed(long replayedAtMs) {
        progress(replayedAtMs);
      }

      @Override
      public void failed(Throwable cause) {
        listener.onSample(SampleResult.ERROR);
        if (!probeFailing) {
          LOG.warn("replica lag heartbeat read failed; keeping the last estimate: {}", cause.toString());
          probeFailing = true;
        }
      }
    };
  }

  private void progress(long replayedAtMs) {
    if (lastReplayedAtMs == null || replayedAtMs > lastReplayedAtMs) {
      lastReplayedAtMs = replayedAtMs;
      listener.onProgress(replayedAtMs);
    }
  }

  /** A tripwire saw a row {@code lagMs} behind; widens the estimate at once and keeps sampling. */
  public void noteObserved(long lagMs) {
    changing(now -> estimator.noteObserved(now, lagMs));
    touch();
  }

  /** A measurement made elsewhere (a router's replay bracket); counts like one of the source's samples. */
  public void noteMeasured(long lagMs) {
    changing(now -> estimator.recordSample(now, lagMs));
  }

  /** A read proved the replica applies commits within {@code lagMs}; caps the estimate. */
  public void noteUpperBound(long lagMs) {
    changing(now -> estimator.noteUpperBound(now, lagMs));
  }

  /** Applies one piece of evidence and tells the listener when it moved the estimate. */
  private void changing(LongConsumer evidence) {
    long now = scheduler.nowMs();
    long before = estimator.lagMs(now);
    evidence.accept(now);
    long after = estimator.lagMs(now);
    if (after != before) {
      listener.onEstimate(after, sourceName());
    }
  }

  public long lagMs() {
    return estimator.lagMs(scheduler.nowMs());
  }

  /** The source driving the estimate: {@code heartbeat} while the heartbeat measures, else the sampled source. */
  public String sourceName() {
    return estimator.precise(scheduler.nowMs()) ? "heartbeat" : source.name();
  }

  public boolean isSampling() {
    return timerId >= 0;
  }

  /** Stops the timer (verticle undeploy, or idle); a sample in flight still lands in the estimator. */
  public void stop() {
    if (timerId >= 0) {
      scheduler.cancel(timerId);
      timerId = -1;
    }
    if (probe != null) {
      probe.active(false);
    }
  }

  private void tick() {
    if (scheduler.nowMs() - lastTouchMs > idleAfterMs) {
      stop();
      return;
    }
    sampleNow();
  }

  private void sampleNow() {
    if (inFlight) {
      return;
    }
    inFlight = true;
    Future<Long> sample;
    try {
      sample = source.sample();
    } catch (RuntimeException e) {
      sample = Future.failedFuture(e);
    }
    sample.onComplete(this::onSampled);
  }

  private void onSampled(AsyncResult<Long> ar) {
    inFlight = false;
    SampleResult result;
    if (ar.succeeded() && source.lastFailed()) {
      result = SampleResult.ERROR; // the source skipped the sample (and logged why): the replica did not answer
    } else if (ar.succeeded()) {
      estimator.recordSample(scheduler.nowMs(), ar.result());
      Long replayedAt = source.lastReplayedAtMs();
      if (replayedAt != null) {
        progress(replayedAt);
      }
      result = ar.result() == null ? SampleResult.UNMEASURABLE : SampleResult.MEASURED;
      if (sourceFailing) {
        LOG.info("replica lag source {} samples again", source.name());
        sourceFailing = false;
      }
    } else {
      result = SampleResult.ERROR;
      // Once per failure streak: a replica that is down would otherwise log four times a second.
      if (!sourceFailing) {
        LOG.warn("replica lag sample from {} failed; keeping the last estimate: {}", source.name(), ar.cause().toString());
        sourceFailing = true;
      }
    }
    listener.onSample(result);
    listener.onEstimate(lagMs(), sourceName());
  }
}
