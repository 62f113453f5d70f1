package io.freshet.router;

/**
 * When a hydrate may run. The wait is anchored to the record's watermark, not to its arrival: a
 * record that has already spent longer than the lag in transit is hydrated at once, so only the
 * racing leading edge of a burst ever waits.
 */
final class ReplicaLagGate {

  private final GateMode mode;
  private final long marginMs;
  private final long maxDelayMs;
  private final long minRetryDelayMs;

  ReplicaLagGate(GateMode mode, long marginMs, long maxDelayMs, long minRetryDelayMs) {
    this.mode = mode;
    this.marginMs = marginMs;
    this.maxDelayMs = maxDelayMs;
    this.minRetryDelayMs = minRetryDelayMs;
  }

  GateMode mode() {
    return mode;
  }

  boolean checksRows() {
    return mode == GateMode.GATED;
  }

  /**
   * The earliest time the record's run may be hydrated: watermark + lag + margin, never more than
   * {@code maxDelayMs} after it arrived. Records without a watermark are due on arrival.
   */
  long dueAt(Long watermarkMs, long arrivedAtMs, long lagMs) {
    return switch (mode) {
      case UNGATED, PRIMARY_READS -> arrivedAtMs;
      case FIXED_DELAY -> arrivedAtMs + maxDelayMs;
      case GATED -> watermarkMs == null
          ? arrivedAtMs
          : Math.max(arrivedAtMs, Math.min(watermarkMs + lagMs + marginMs, arrivedAtMs + maxDelayMs));
    };
  }

  /**
   * Wait before re-reading a stale row. The estimate has just been widened to the time since
   * commit, so successive waits roughly double, bounded by the max delay.
   */
  long retryDelay(long lagMs) {
    return Math.max(minRetryDelayMs, Math.min(lagMs + marginMs, maxDelayMs));
  }
}
