package io.freshet.router.engine;

import io.freshet.core.time.Clock;

/**
 * How many reads per second a node may send to the primary on behalf of changes the replica could
 * not serve in time: a token bucket holding at most one second's worth, shared by the node's
 * routers (so it is thread-safe). Zero turns the fallback off.
 */
public final class PrimaryFallbackBudget {

  private final double perSecond;
  private final Clock clock;
  private double tokens;
  private long refilledAtMs;

  public PrimaryFallbackBudget(int perSecond, Clock clock) {
    this.perSecond = Math.max(0, perSecond);
    this.clock = clock;
    this.tokens = this.perSecond;
    this.refilledAtMs = clock.nowMs();
  }

  public boolean enabled() {
    return perSecond > 0;
  }

  /** Takes up to {@code wanted} reads from the budget; returns how many were granted. */
  public synchronized int acquire(int wanted) {
    if (perSecond <= 0 || wanted <= 0) {
      return 0;
    }
    long now = clock.nowMs();
    tokens = Math.min(perSecond, tokens + (now - refilledAtMs) * perSecond / 1000.0);
    refilledAtMs = now;
    int granted = (int) Math.min(wanted, Math.floor(tokens));
    tokens -= granted;
    return granted;
  }
}
