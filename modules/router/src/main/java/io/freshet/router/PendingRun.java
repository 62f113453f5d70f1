package io.freshet.router;

import io.freshet.core.RunRow;
import java.util.TreeMap;

/**
 * A run with changes not yet delivered fresh. It keeps every outstanding watermark and is gated on
 * the oldest: a newer change never postpones an older one, so a run written faster than the replica
 * applies still gets each change as soon as it is safe, not only after the writes stop.
 *
 * <p>Its stage says what it waits for: {@link Stage#GATED} the gate's first read,
 * {@link Stage#RETRYING} the next read after a stale one, {@link Stage#WATCHING} the replica to
 * move (it gave up on timers: the row was delivered as the replica had it, and the fresh one
 * follows once the replica applies the change).
 */
final class PendingRun {

  enum Stage { GATED, RETRYING, WATCHING }

  private static final int MAX_WATERMARKS = 64;

  final String runId;
  /** Watermark → when its record arrived. */
  private final TreeMap<Long, Long> watermarks = new TreeMap<>();
  /** A record without a watermark is waiting: read on arrival, no tripwire. */
  private boolean unstamped;
  private long unstampedAtMs;

  Stage stage = Stage.GATED;
  /** Stale reads of the oldest change so far. */
  int attempts;
  /** The largest lag the stale reads proved. */
  long observedMs;
  /** The tightest bracket top the stale reads' replay positions proved, or null. */
  Long upperMs;
  /** The last stale read's end plus the shortest retry delay. */
  long notBeforeMs;
  /** The last stale row read, delivered if the run gives up on timers. */
  RunRow staleRow;
  /** The fallback budget refused this change a primary read: a stale replica read gives up. */
  boolean refused;
  /** The last replica read failed (refused, reset, timed out): the replica cannot serve it now. */
  boolean replicaFailed;

  PendingRun(String runId) {
    this.runId = runId;
  }

  void add(Long watermarkMs, long nowMs) {
    if (watermarkMs == null) {
      if (!unstamped) {
        unstamped = true;
        unstampedAtMs = nowMs;
      }
      return;
    }
    watermarks.putIfAbsent(watermarkMs, nowMs);
    if (watermarks.size() > MAX_WATERMARKS) {
      // Keep the oldest (the one gated on) and the newest; the ones between add nothing.
      watermarks.remove(watermarks.higherKey(watermarks.firstKey()));
    }
  }

  /** Takes over what arrived for the same run while this one was being read. */
  void merge(PendingRun arrived) {
    arrived.watermarks.forEach(watermarks::putIfAbsent);
    if (arrived.unstamped && !unstamped) {
      unstamped = true;
      unstampedAtMs = arrived.unstampedAtMs;
    }
  }

  /** The oldest outstanding watermark, the one the run is gated on; null when none. */
  Long oldest() {
    return watermarks.isEmpty() ? null : watermarks.firstKey();
  }

  long arrivedAt(long watermarkMs) {
    return watermarks.get(watermarkMs);
  }

  boolean unstamped() {
    return unstamped;
  }

  long unstampedAtMs() {
    return unstampedAtMs;
  }

  /**
   * A read returned version {@code versionMs}: the watermarks it satisfies are done. Returns the
   * oldest it satisfied (for the delivery-lag metric), or null.
   */
  Long satisfiedUpTo(long versionMs) {
    Long oldest = oldest();
    var done = watermarks.headMap(versionMs, true);
    if (done.isEmpty()) {
      oldest = null;
    }
    done.clear();
    unstamped = false;
    return oldest;
  }

  boolean isDone() {
    return watermarks.isEmpty() && !unstamped;
  }

  /** A stale read of the oldest change. */
  void stale(long observed, Long upper, RunRow row, long notBefore) {
    attempts++;
    observedMs = Math.max(observedMs, observed);
    if (upper != null && (upperMs == null || upper < upperMs)) {
      upperMs = upper;
    }
    if (row != null) {
      staleRow = row;
    }
    notBeforeMs = notBefore;
    stage = Stage.RETRYING;
  }

  /** Later changes remain after a fresh read: they start over at the gate. */
  void restart() {
    stage = Stage.GATED;
    attempts = 0;
    observedMs = 0;
    upperMs = null;
    staleRow = null;
    refused = false;
    replicaFailed = false;
  }

  void watch() {
    stage = Stage.WATCHING;
  }
}
