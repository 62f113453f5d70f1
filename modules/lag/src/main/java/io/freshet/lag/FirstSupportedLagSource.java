package io.freshet.lag;

import io.vertx.core.Future;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries candidate sources in order and keeps the first whose sample succeeds (even with
 * {@code null}), so a node works unchanged on Aurora and on plain PostgreSQL.
 *
 * <p>A candidate that fails with {@link UnsupportedLagSourceException} is never asked again; when
 * every candidate is unsupported the source never measures (samples are {@code null}) and the
 * estimate runs on its default plus tripwire observations. Any other failure during detection (the
 * replica is restarting, a connection was reset) says nothing about support: the sample is skipped
 * and the same candidate is asked again next time, so a node that starts while its replica is down
 * neither gives up measuring nor falls through to a source meant for another kind of database.
 * Once a source is chosen, its errors only skip a sample and never unselect it.
 *
 * <p>Not thread-safe: call {@link #sample()} from one context, never with two samples in flight
 * ({@link LagSampler} guarantees both).
 */
public final class FirstSupportedLagSource implements LagSource {

  private static final Logger LOG = LoggerFactory.getLogger(FirstSupportedLagSource.class);

  private final List<LagSource> candidates;
  private int nextCandidate;
  private volatile LagSource chosen;
  private boolean chosenFailing;
  private boolean detectionFailing;

  public FirstSupportedLagSource(List<LagSource> candidates) {
    this.candidates = List.copyOf(candidates);
  }

  @Override
  public Future<Long> sample() {
    LagSource source = chosen;
    if (source != null) {
      return safeSample(source).transform(ar -> {
        if (ar.succeeded()) {
          if (chosenFailing) {
            LOG.info("replica lag source {} measures again", source.name());
            chosenFailing = false;
          }
          return Future.succeededFuture(ar.result());
        }
        if (!chosenFailing) {
          LOG.warn("replica lag source {} failed, skipping samples until it recovers: {}", source.name(), ar.cause().toString());
          chosenFailing = true;
        }
        return Future.succeededFuture(null);
      });
    }
    return probeFrom(nextCandidate);
  }

  @Override
  public Long lastReplayedAtMs() {
    LagSource source = chosen;
    return source == null ? null : source.lastReplayedAtMs();
  }

  @Override
  public boolean lastFailed() {
    return chosen != null ? chosenFailing : detectionFailing;
  }

  /** The chosen source's name, or {@code undetected} while none is chosen. */
  @Override
  public String name() {
    LagSource source = chosen;
    return source == null ? "undetected" : source.name();
  }

  private Future<Long> probeFrom(int index) {
    if (index >= candidates.size()) {
      return Future.succeededFuture(null);
    }
    LagSource candidate = candidates.get(index);
    return safeSample(candidate).transform(ar -> {
      if (ar.succeeded()) {
        chosen = candidate;
        detectionFailing = false;
        LOG.info("replica lag source: {}", candidate.name());
        return Future.succeededFuture(ar.result());
      }
      if (!(ar.cause() instanceof UnsupportedLagSourceException)) {
        if (!detectionFailing) {
          LOG.warn("replica lag source detection failed at {}, retrying on the next sample: {}",
              candidate.name(), ar.cause().toString());
          detectionFailing = true;
        }
        return Future.succeededFuture(null);
      }
      nextCandidate = index + 1;
      LOG.info("replica lag source {} does not apply: {}", candidate.name(), ar.cause().getMessage());
      if (nextCandidate == candidates.size()) {
        LOG.warn("no replica lag source applies; the estimate runs on its default and tripwire observations");
      }
      return probeFrom(index + 1);
    });
  }

  private static Future<Long> safeSample(LagSource source) {
    try {
      return source.sample();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
