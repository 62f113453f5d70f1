package io.freshet.lag;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * How far the read replica trails the primary, in milliseconds, from two kinds of evidence:
 * samples a {@link LagSource} measured on the replica, and lags a stale-row tripwire observed.
 *
 * <p>{@code lagMs(now) = max(base, floor)}:
 * <ul>
 *   <li>{@code base} is the largest sample of the last {@code windowMs}; with none in the window,
 *       the last measured sample; with none ever, {@code defaultMs}.</li>
 *   <li>{@code floor} is the latest tripwire observation: held at its value for
 *       {@code observedFloorTtlMs}, then falling linearly to nothing over {@code floorDecayMs}.
 *       A stale row is proof the replica was at least that far behind, and sampling (every
 *       250 ms by default) can miss a short burst entirely, so an observation holds the estimate
 *       up much longer than a sample does.</li>
 * </ul>
 *
 * <p>A {@code ceiling} caps it: a read that saw the replica's last replayed commit proves the
 * replica applies commits within {@code readTime - thatCommit} (while its delay is steady), so a
 * held or decaying floor follows a lag that really dropped within one read instead of over-waiting
 * until it decays. A ceiling lasts one window, and a later tripwire observation above it (the lag
 * grew) removes it.
 *
 * <p>Why decay rather than expire: on vanilla PostgreSQL the sampler cannot measure a lagging
 * replica at all, so the floor is the estimate. Dropping it at once would send every gate back
 * to racing the replica, and with three retries starting near zero the retry chain only reaches
 * about 170 ms, so any larger lag would be delivered stale after each expiry. Decaying, a stable
 * lag is re-confirmed by a dip of a few milliseconds (which the gate's margin absorbs, or one
 * retry corrects), while a lag that really shrank is followed down within the decay.
 *
 * <p>An observation also enters the window as a sample, but it never becomes the "last measured"
 * sample: it describes one row's race, not the replica's steady state, so once its window and
 * floor are over it must not keep the gate wide for ever.
 *
 * <p>A precise source (the heartbeat, which times the replica's apply of one write to within a few
 * milliseconds) takes over while it reports: the estimate is then its latest measurement (the
 * largest within {@code preciseWindowMs}, and never above a later upper bound), raised by a
 * heartbeat still unapplied for longer (a stall, growing as it lasts) and by tripwire observations
 * of the same short window. The held floor and the window above are what a source that cannot
 * measure mid-apply needs; with a measurement every sample interval they would only keep the gate
 * wide long after a stall. Without a precise report for {@code preciseValidMs} the estimate falls
 * back to those rules.
 *
 * <p>No clock and no Vert.x: every method takes {@code nowMs} from the caller (the node's clock,
 * in ms; only differences between those times matter). Methods are synchronized because a metrics scrape reads the estimate from
 * another thread than the event loop that records samples.
 */
public final class ReplicaLagEstimator {

  private record Sample(long atMs, long lagMs) {}

  private final long windowMs;
  private final long defaultMs;
  private final long observedFloorTtlMs;
  private final long floorDecayMs;
  private final long maxMs;

  /** Samples and observations of the last {@code windowMs}, oldest first. */
  private final ArrayDeque<Sample> window = new ArrayDeque<>();
  private Long lastMeasuredMs;
  private Sample floor;
  private Sample ceiling;

  private long preciseWindowMs = 500;
  private long preciseValidMs = 10_000;
  /** Precise reports of the last {@code preciseWindowMs}, oldest first; the last one is the latest. */
  private final ArrayDeque<Sample> precise = new ArrayDeque<>();
  private Sample lastPrecise;
  private Sample unapplied;

  public ReplicaLagEstimator(long windowMs, long defaultMs, long observedFloorTtlMs, long maxMs) {
    this(windowMs, defaultMs, observedFloorTtlMs, 0, maxMs);
  }

  public ReplicaLagEstimator(long windowMs, long defaultMs, long observedFloorTtlMs, long floorDecayMs, long maxMs) {
    if (windowMs <= 0 || observedFloorTtlMs < 0 || floorDecayMs < 0 || maxMs < 0 || defaultMs < 0) {
      throw new IllegalArgumentException("lag estimator: windowMs must be > 0 and other durations >= 0");
    }
    this.windowMs = windowMs;
    this.defaultMs = Math.min(defaultMs, maxMs);
    this.observedFloorTtlMs = observedFloorTtlMs;
    this.floorDecayMs = floorDecayMs;
    this.maxMs = maxMs;
  }

  /** How long precise reports count, and how long precise mode lasts after the last one. */
  public synchronized ReplicaLagEstimator preciseWindows(long windowMs, long validMs) {
    this.preciseWindowMs = Math.max(1, windowMs);
    this.preciseValidMs = Math.max(windowMs, validMs);
    return this;
  }

  /**
   * A precise source measured one write's apply delay; {@code upperOnly} when it only knows the
   * delay was at most {@code lagMs} (which also proves every larger recent report outdated).
   */
  public synchronized void recordPrecise(long nowMs, long lagMs, boolean upperOnly) {
    long clamped = clamp(lagMs);
    if (upperOnly) {
      precise.removeIf(sample -> sample.lagMs() > clamped);
    }
    Sample sample = new Sample(nowMs, clamped);
    precise.addLast(sample);
    lastPrecise = sample;
    unapplied = null;
    while (!precise.isEmpty() && precise.peekFirst().atMs() < nowMs - preciseWindowMs) {
      precise.removeFirst();
    }
  }

  /** A precise source's write has been unapplied for {@code ageMs}: the lag is at least that, and growing. */
  public synchronized void noteUnapplied(long nowMs, long ageMs) {
    unapplied = new Sample(nowMs, clamp(ageMs));
  }

  /** Whether a precise source reported recently enough to drive the estimate. */
  public synchronized boolean precise(long nowMs) {
    return lastPrecise != null && nowMs - lastPrecise.atMs() <= preciseValidMs;
  }

  /** A lag the source measured; {@code null} means it could not measure right now and is ignored. */
  public synchronized void recordSample(long nowMs, Long lagMs) {
    if (lagMs == null) {
      return;
    }
    long clamped = clamp(lagMs);
    window.addLast(new Sample(nowMs, clamped));
    lastMeasuredMs = clamped;
    evictBefore(nowMs);
  }

  /**
   * A lag a tripwire observed (now minus the commit time of a row the replica did not have yet).
   * It widens the window at once, and raises the floor unless a higher floor is still in force.
   */
  public synchronized void noteObserved(long nowMs, long lagMs) {
    long clamped = clamp(lagMs);
    window.addLast(new Sample(nowMs, clamped));
    if (clamped >= floorAt(nowMs)) {
      floor = new Sample(nowMs, clamped);
    }
    if (ceiling != null && clamped > ceiling.lagMs()) {
      ceiling = null; // the lag grew past what an earlier read proved
    }
    evictBefore(nowMs);
  }

  /** An upper bound a read proved: the replica applied a commit at most {@code lagMs} after it. */
  public synchronized void noteUpperBound(long nowMs, long lagMs) {
    long clamped = clamp(lagMs);
    if (ceiling == null || clamped <= ceiling.lagMs() || nowMs - ceiling.atMs() >= windowMs) {
      ceiling = new Sample(nowMs, clamped);
    }
  }

  /** The current estimate in milliseconds, always within {@code [0, maxMs]}. */
  public synchronized long lagMs(long nowMs) {
    if (precise(nowMs)) {
      return preciseLag(nowMs);
    }
    long base = -1;
    for (Sample sample : window) {
      if (sample.atMs() >= nowMs - windowMs) {
        base = Math.max(base, sample.lagMs());
      }
    }
    if (base < 0) {
      base = lastMeasuredMs != null ? lastMeasuredMs : defaultMs;
    }
    long estimate = Math.max(base, floorAt(nowMs));
    if (ceiling != null && nowMs - ceiling.atMs() < windowMs) {
      estimate = Math.min(estimate, ceiling.lagMs());
    }
    return estimate;
  }

  private long preciseLag(long nowMs) {
    long estimate = lastPrecise.lagMs();
    for (Sample sample : precise) {
      if (sample.atMs() >= nowMs - preciseWindowMs) {
        estimate = Math.max(estimate, sample.lagMs());
      }
    }
    if (unapplied != null && nowMs - unapplied.atMs() <= preciseWindowMs) {
      // Still unapplied now, it is older than when it was reported (the probe reports again well
      // within the window while it stays unapplied).
      estimate = Math.max(estimate, unapplied.lagMs() + Math.max(0, nowMs - unapplied.atMs()));
    }
    if (floor != null && nowMs - floor.atMs() <= preciseWindowMs) {
      estimate = Math.max(estimate, floor.lagMs());
    }
    return clamp(estimate);
  }

  /** The floor's value now: held for the TTL, then decaying linearly to zero. */
  private long floorAt(long nowMs) {
    if (floor == null) {
      return 0;
    }
    long age = nowMs - floor.atMs();
    if (age < observedFloorTtlMs) {
      return floor.lagMs();
    }
    long decaying = age - observedFloorTtlMs;
    if (decaying >= floorDecayMs) {
      return 0;
    }
    return floor.lagMs() * (floorDecayMs - decaying) / floorDecayMs;
  }

  private void evictBefore(long nowMs) {
    Iterator<Sample> it = window.iterator();
    while (it.hasNext() && it.next().atMs() < nowMs - windowMs) {
      it.remove();
    }
  }

  private long clamp(long lagMs) {
    return Math.max(0, Math.min(lagMs, maxMs));
  }
}
