package io.freshet.router.engine;

/** The router's view of the lag sampler on its node. */
public interface LagView {

  /** Told, on the router's event loop, what the sampler learned. */
  interface Listener {
    /** The estimate changed: retries planned under the old one are planned again. */
    void estimateChanged(long lagMs);

    /**
     * The replica's replay moved: it applied commits up to {@code replayedAtMs} (the commit time of
     * the last one, primary clock), or null when the sampler only knows that it moved.
     */
    void replicaProgressed(Long replayedAtMs);
  }

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

  void listen(Listener listener);
}
