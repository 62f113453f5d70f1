package io.freshet.router.engine;

/**
 * When a hydrate may run. The wait is anchored to the record's watermark, not to its arrival: a
 * record that has already spent longer than the lag in transit is hydrated at once, so only the
 * racing leading edge of a burst ever waits.
 */
public final class ReplicaLagGate {

  private final GateMode mode;
  private final long marginMs;
  private final long maxDelayMs;

  public ReplicaLagGate(GateMode mode, long marginMs, long maxDelayMs) {
    this.mode = mode;
    this.marginMs = marginMs;
    this.maxDelayMs = maxDelayMs;
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
}
