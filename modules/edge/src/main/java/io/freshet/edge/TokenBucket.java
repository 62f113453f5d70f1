package io.freshet.edge;

import io.freshet.core.time.Clock;

/**
 * A rate with bursts: {@code burst} takes at once, refilled at {@code perSecond}. Counted in
 * thousandths of a take (a millisecond refills {@code perSecond} of them), so that whole rates are
 * exact. Not thread-safe; callers keep one per event loop or synchronize. Time is read from the
 * clock it is given.
 */
final class TokenBucket {

  private static final long ONE = 1000;

  private final double perSecond;
  private final long capacity;
  private final Clock clock;
  private long milli;
  private long atMs;

  TokenBucket(double perSecond, double burst, Clock clock) {
    this.perSecond = perSecond;
    this.capacity = Math.max(ONE, (long) (burst * ONE));
    this.clock = clock;
    this.milli = capacity;
    this.atMs = clock.nowMs();
  }

  /** Takes one if there is one. */
  boolean tryTake() {
    refill();
    if (milli >= ONE) {
      milli -= ONE;
      return true;
    }
    return false;
  }

  /** Whether it is full again (nothing taken that has not been refilled): an idle bucket can be dropped. */
  boolean full() {
    refill();
    return milli >= capacity;
  }

  private void refill() {
    long now = clock.nowMs();
    if (now > atMs) {
      milli = Math.min(capacity, milli + (long) ((now - atMs) * perSecond));
      atMs = now;
    }
  }
}
