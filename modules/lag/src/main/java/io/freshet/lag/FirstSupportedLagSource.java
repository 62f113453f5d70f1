package io.freshet.lag;

import io.vertx.core.Future;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries candidate sources in order and keeps the first whose sample succeeds (even with
 * {@code null}), so a node works unchanged on Aurora and on plain PostgreSQL.
 *
 * <p>Each candidate is tried once: a candidate that fails is not asked again, and when every
 * candidate has failed the source never measures (samples are {@code null}) and the estimate runs
 * on its default plus tripwire observations. Once a source is chosen, its errors only skip a
 * sample; a replica restart must not throw the node back into detection.
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
        LOG.info("replica lag source: {}", candidate.name());
        return Future.succeededFuture(ar.result());
      }
      nextCandidate = index + 1;
      LOG.info("replica lag source {} not usable: {}", candidate.name(), ar.cause().toString());
      if (nextCandidate == candidates.size()) {
        LOG.warn("no replica lag source works; the estimate runs on its default and tripwire observations");
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
