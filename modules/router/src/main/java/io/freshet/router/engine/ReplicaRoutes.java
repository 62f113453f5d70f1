package io.freshet.router.engine;

/**
 * Which read replica a read goes to. Each replica has its own lag estimate, its own replay
 * position (the commit time of the last transaction it was seen to replay, primary clock) and a
 * place in or out of the rotation, as the lag sampler and this router's own reads report them.
 *
 * <p>A read for commits up to {@code need} may go to a replica that is <i>known</i> to have applied
 * them (its replay position is at or past {@code need}) or <i>expected</i> to (the commit is older
 * than that replica's own estimate); reads are spread round-robin over the replicas that qualify.
 * When none does (the gate's leading edge, which waits on {@link #gateLagMs()}), the read goes to
 * the fastest replica in rotation: the one whose estimate the gate waited out. The tripwire still
 * checks every row, and a stale one widens the estimate of the replica that served it, so the
 * next read of that change goes elsewhere or later. A replica whose read failed is passed over for
 * {@link #FAILED_HOLD_MS} even before the sampler takes it out of the rotation.
 *
 * <p>{@code worst} is the baseline a reader endpoint forces (trigger.dev's gate): the gate waits on
 * the slowest replica in rotation and reads are spread over all of them, qualified or not.
 *
 * <p>Plain state on one event loop; time comes in as arguments.
 */
public final class ReplicaRoutes {

  /** How long a replica whose read failed gets no reads unless no other is left. */
  static final long FAILED_HOLD_MS = 1000;

  private final long[] lagMs;
  private final long[] replayedAtMs;
  private final boolean[] inRotation;
  private final long[] failedAtMs;
  private final boolean worst;
  private int next;

  public ReplicaRoutes(int replicas, long initialLagMs) {
    this(replicas, initialLagMs, false);
  }

  /** @param worst gate on the slowest replica in rotation and spread reads over all (the reader-endpoint baseline) */
  public ReplicaRoutes(int replicas, long initialLagMs, boolean worst) {
    this.worst = worst;
    int n = Math.max(1, replicas);
    lagMs = new long[n];
    replayedAtMs = new long[n];
    inRotation = new boolean[n];
    failedAtMs = new long[n];
    for (int i = 0; i < n; i++) {
      lagMs[i] = initialLagMs;
      replayedAtMs[i] = Long.MIN_VALUE;
      inRotation[i] = true;
      failedAtMs[i] = Long.MIN_VALUE / 2;
    }
  }

  public int count() {
    return lagMs.length;
  }

  /** The sampler's estimate of {@code replica}, and whether it is in rotation. */
  public void estimate(int replica, long lag, boolean in) {
    if (valid(replica)) {
      lagMs[replica] = lag;
      inRotation[replica] = in;
    }
  }

  /** A stale read on {@code replica} proved it at least {@code lag} behind: its estimate widens at once. */
  public void widen(int replica, long lag) {
    if (valid(replica)) {
      lagMs[replica] = Math.max(lagMs[replica], lag);
    }
  }

  /** {@code replica} was seen to have replayed commits up to {@code atMs}. */
  public void replayed(int replica, long atMs) {
    if (valid(replica)) {
      replayedAtMs[replica] = Math.max(replayedAtMs[replica], atMs);
    }
  }

  /** A read on {@code replica} failed at {@code nowMs}. */
  public void failed(int replica, long nowMs) {
    if (valid(replica)) {
      failedAtMs[replica] = nowMs;
    }
  }

  public long lagMs(int replica) {
    return lagMs[replica];
  }

  public boolean inRotation(int replica) {
    return inRotation[replica];
  }

  /** The lag the gate waits out: the fastest replica in rotation (none in rotation: the fastest of all). */
  public long gateLagMs() {
    long best = worst ? Long.MIN_VALUE : Long.MAX_VALUE;
    long any = Long.MAX_VALUE;
    for (int i = 0; i < lagMs.length; i++) {
      any = Math.min(any, lagMs[i]);
      if (inRotation[i]) {
        best = worst ? Math.max(best, lagMs[i]) : Math.min(best, lagMs[i]);
      }
    }
    return best == Long.MAX_VALUE || best == Long.MIN_VALUE ? any : best;
  }

  /**
   * The replica for a read of commits up to {@code needMs} (null: no commit to wait for, such as a
   * snapshot; the fastest replica).
   */
  public int route(Long needMs, long nowMs) {
    if (lagMs.length == 1) {
      return 0;
    }
    boolean anyUsable = false;
    for (int i = 0; i < lagMs.length; i++) {
      anyUsable |= usable(i, nowMs, false);
    }
    boolean loose = !anyUsable; // nothing in rotation and healthy: every replica is a candidate
    int qualified = 0;
    int fastest = -1;
    for (int i = 0; i < lagMs.length; i++) {
      if (!usable(i, nowMs, loose)) {
        continue;
      }
      if (qualifies(i, needMs, nowMs)) {
        qualified++;
      }
      if (fastest < 0 || lagMs[i] < lagMs[fastest] || lagMs[i] == lagMs[fastest] && replayedAtMs[i] > replayedAtMs[fastest]) {
        fastest = i;
      }
    }
    if (qualified == 0) {
      return Math.max(0, fastest);
    }
    int pick = Math.floorMod(next++, qualified);
    for (int i = 0; i < lagMs.length; i++) {
      if (usable(i, nowMs, loose) && qualifies(i, needMs, nowMs) && pick-- == 0) {
        return i;
      }
    }
    return Math.max(0, fastest);
  }

  /** Known or expected to have applied the commit at {@code needMs} (with {@code worst}: every replica). */
  private boolean qualifies(int i, Long needMs, long nowMs) {
    return worst || needMs != null && (replayedAtMs[i] >= needMs || nowMs - needMs >= lagMs[i]);
  }

  private boolean usable(int i, long nowMs, boolean loose) {
    return loose || inRotation[i] && nowMs - failedAtMs[i] >= FAILED_HOLD_MS;
  }

  private boolean valid(int replica) {
    return replica >= 0 && replica < lagMs.length;
  }
}
