package io.freshet.router;

/** The router's view of the lag sampler on its node. */
public interface LagView {

  /** The current replica-lag estimate, in ms. */
  long lagMs();

  /** Reports a stale read seen by the tripwire; the estimate widens to at least {@code lagMs}. */
  void observed(long lagMs);

  /** A read proved the replica applies commits within {@code lagMs}: the estimate may not exceed it. */
  void upperBound(long lagMs);

  /**
   * A read ran from {@code startMs} to {@code endMs} and saw the replica's last replayed commit at
   * {@code replayedAtMs}; consecutive reads can measure the apply delay ({@link ReplayBracket}).
   */
  void replayed(long startMs, long endMs, long replayedAtMs);

  /** Feeds are active: keep sampling. */
  void touch();
}
