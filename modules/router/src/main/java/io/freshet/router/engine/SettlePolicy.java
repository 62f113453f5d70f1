package io.freshet.router.engine;

import io.freshet.router.engine.ReadSource.Where;

/**
 * What happens to a change whose replica read came back stale (older than its watermark, missing,
 * or failed): when to read the replica again, when to read the primary instead, and when to give
 * up for now and deliver what the replica has. Plain arithmetic on times the caller passes in.
 *
 * <p>A stale read at {@code readStartedAt} proves the replica's lag exceeds
 * {@code observed = readStartedAt - watermark}. The next read aims at the current estimate when it
 * is above that proof (the estimate knows better: a measured source, or a bracket), and at twice
 * the proof otherwise (the estimate is proven wrong, so probe outwards), never past the top of the
 * bracket the read's replay position proves; when that bracket is tight (a busy replica), it aims
 * at its top. On an idle replica the bracket's top is the age of the last commit it replayed
 * (seconds or minutes), which proves nothing: aiming there is what made the first change after a
 * quiet spell wait for the maximum delay.
 *
 * <p>A change the replica cannot serve by {@code watermark + freshWithinMs} is read from the
 * primary instead, if the fallback is on. With the fallback off, after {@code staleRetries}
 * retries the row is delivered anyway (liveness) and the run is watched until the replica applies
 * it ({@link Plan#WATCH}).
 */
public final class SettlePolicy {

  /** Below this width the replay bracket is precise enough to aim straight at its upper bound. */
  static final long TIGHT_BRACKET_MS = 50;

  /** The next read of a pending change: when and where; {@link #WATCH} waits for the replica to move. */
  record Plan(long atMs, Where source) {
    static final Plan WATCH = new Plan(Long.MAX_VALUE, Where.REPLICA);

    boolean watching() {
      return atMs == Long.MAX_VALUE;
    }
  }

  private final ReplicaLagGate gate;
  private final long marginMs;
  private final long maxDelayMs;
  private final long minRetryDelayMs;
  private final long freshWithinMs;
  private final boolean fallback;
  private final int staleRetries;

  public SettlePolicy(ReplicaLagGate gate, long marginMs, long maxDelayMs, long minRetryDelayMs, long freshWithinMs,
      boolean fallback, int staleRetries) {
    this.gate = gate;
    this.marginMs = marginMs;
    this.maxDelayMs = maxDelayMs;
    this.minRetryDelayMs = minRetryDelayMs;
    this.freshWithinMs = freshWithinMs;
    this.fallback = fallback;
    this.staleRetries = staleRetries;
  }

  boolean fallback() {
    return fallback;
  }

  /** The gate's time for a commit: its watermark plus the estimate and margin, within the longest delay. */
  long dueAt(long watermarkMs, long arrivedAtMs, long lagMs) {
    return gate.dueAt(watermarkMs, arrivedAtMs, lagMs);
  }

  /** The change's deadline: by then it is read fresh, from the replica or else the primary. */
  long deadline(long watermarkMs) {
    return watermarkMs + freshWithinMs;
  }

  /**
   * The first read of a change that arrived at {@code arrivedAtMs}: the gate's time, or the
   * primary at the deadline when the estimate says the replica will not have it by then.
   */
  Plan first(long watermarkMs, long arrivedAtMs, long lagMs) {
    long due = gate.dueAt(watermarkMs, arrivedAtMs, lagMs);
    if (fallback && gate.checksRows() && watermarkMs + lagMs + marginMs > deadline(watermarkMs)) {
      return new Plan(Math.max(arrivedAtMs, deadline(watermarkMs)), Where.PRIMARY);
    }
    return new Plan(due, Where.REPLICA);
  }

  /**
   * The read after a stale one, re-evaluated whenever the estimate changes.
   *
   * @param observedMs the lag the stale reads proved ({@code readStartedAt - watermark}, largest so far)
   * @param upperMs the bracket's top from the replay position, or null when it proves nothing
   * @param notBeforeMs the stale read's end plus the shortest retry delay
   * @param attempts stale reads of this change so far
   * @param replicaFailed the last read failed: a replica that refuses connections is stalled, so
   *     with the fallback on the primary is read at once rather than at the deadline
   */
  Plan retry(long watermarkMs, long observedMs, Long upperMs, long lagMs, long notBeforeMs, int attempts, boolean replicaFailed) {
    if (fallback && replicaFailed) {
      return new Plan(notBeforeMs - minRetryDelayMs, Where.PRIMARY);
    }
    long aim = lagMs > observedMs ? lagMs : 2 * observedMs;
    if (upperMs != null && upperMs > observedMs) {
      aim = upperMs - observedMs <= TIGHT_BRACKET_MS ? upperMs : Math.min(aim, upperMs);
    }
    long due = Math.max(notBeforeMs, Math.min(watermarkMs + aim + marginMs, notBeforeMs + maxDelayMs));
    if (fallback) {
      long deadline = deadline(watermarkMs);
      return due >= deadline ? new Plan(Math.max(notBeforeMs - minRetryDelayMs, deadline), Where.PRIMARY)
          : new Plan(due, Where.REPLICA);
    }
    return attempts > staleRetries ? Plan.WATCH : new Plan(due, Where.REPLICA);
  }

  /** The bracket a stale read proves: its top, from the replica's last replayed commit, or null. */
  static Long bracketTop(long watermarkMs, long readStartedAt, Long replayedAtMs) {
    if (replayedAtMs == null || replayedAtMs >= watermarkMs) {
      return null;
    }
    return readStartedAt - replayedAtMs;
  }

  long minRetryDelayMs() {
    return minRetryDelayMs;
  }
}
