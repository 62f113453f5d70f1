package io.freshet.router.engine;

/**
 * The router's view of the read replicas, as its node's lag sampler and its own reads report them:
 * the lag the gate waits out, and which replica each read goes to ({@link ReplicaRoutes}).
 * Replicas are numbered from 0 in {@code db.replica.uris} order.
 */
public interface LagView {

  /** Told, on the router's event loop, what the sampler learned. */
  interface Listener {
    /** The gate's estimate changed: retries planned under the old one are planned again. */
    void estimateChanged(long lagMs);

    /**
     * A replica's replay moved: it applied commits up to {@code replayedAtMs} (the commit time of
     * the last one, primary clock), or null when the sampler only knows that it moved.
     */
    void replicaProgressed(Long replayedAtMs);
  }

  /** The lag the gate waits out, in ms: the fastest replica in rotation. */
  long lagMs();

  /** The replica a read of commits up to {@code needMs} goes to (null: nothing to wait for; the fastest). */
  int route(Long needMs);

  /** Reports a stale read on {@code replica} seen by the tripwire; its estimate widens to at least {@code lagMs}. */
  void observed(int replica, long lagMs);

  /** A read proved {@code replica} applies commits within {@code lagMs}: its estimate may not exceed it. */
  void upperBound(int replica, long lagMs);

  /**
   * A read on {@code replica} ran from {@code startMs} to {@code endMs} and saw its last replayed
   * commit at {@code replayedAtMs}; consecutive reads can measure the apply delay ({@link ReplayBracket}).
   */
  void replayed(int replica, long startMs, long endMs, long replayedAtMs);

  /** A read on {@code replica} failed: it gets no reads for a moment. */
  void failed(int replica);

  /** Feeds are active: keep sampling. */
  void touch();

  void listen(Listener listener);
}
