package io.freshet.core.lag;

/**
 * What a router learned about a replica's lag, sent to its node's lag sampler (node-local,
 * request-reply): the reply is the sampler's {@link Estimate} of that replica after taking it in.
 */
public sealed interface Evidence permits Evidence.Observed, Evidence.UpperBound, Evidence.Measured, Evidence.Ask {

  /** A stale read on {@code replica}: it was at least {@code lagMs} behind (a lower bound, widens its estimate at once). */
  record Observed(int replica, long lagMs) implements Evidence {}

  /** A read proved {@code replica} applies commits within {@code lagMs} (caps its estimate). */
  record UpperBound(int replica, long lagMs) implements Evidence {}

  /** A delay a router measured on {@code replica} by bracketing an apply between two reads (counts as a sample). */
  record Measured(int replica, long lagMs) implements Evidence {}

  /**
   * No evidence: asks for every replica's estimate, which the sampler publishes on
   * {@code lagEstimate()} (and, like a {@link Touch}, keeps it sampling). The reply is replica 0's.
   */
  record Ask() implements Evidence {}
}
