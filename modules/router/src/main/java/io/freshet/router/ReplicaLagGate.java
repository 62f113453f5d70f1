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

  /** Below this width the replay bracket is precise enough to aim straight at its upper bound. */
  static final long TIGHT_BRACKET_MS = 50;

  /**
   * When to re-read a run whose read at {@code readStartedAt} was stale. The read brackets the
   * replica's apply delay: it is more than {@code readStartedAt - watermark} (the write was not
   * applied yet) and, while the delay is steady, at most {@code readStartedAt - replayedAt} (the
   * last commit the replica had replayed was applied by then). Retries double inside the bracket,
   * go straight to its top when it is tight (a busy replica), and use the top on the last chance,
   * so a lag far above the estimate still ends in a fresh read rather than a stale delivery.
   *
   * @param replayedAtMs commit time of the replica's last replayed transaction, or null (unknown)
   * @param lastChance whether the read being scheduled is the last before giving up
   */
  long retryDueAt(long watermarkMs, long readStartedAt, Long replayedAtMs, long lagMs, long nowMs, boolean lastChance) {
    long observed = Math.max(0, readStartedAt - watermarkMs);
    long next = Math.max(2 * observed, lagMs);
    if (replayedAtMs != null && replayedAtMs < watermarkMs) {
      long upper = readStartedAt - replayedAtMs;
      next = lastChance || upper - observed <= TIGHT_BRACKET_MS ? upper : Math.min(next, upper);
    }
    long due = watermarkMs + next + marginMs;
    return Math.max(nowMs + minRetryDelayMs, Math.min(due, nowMs + maxDelayMs));
  }
}
