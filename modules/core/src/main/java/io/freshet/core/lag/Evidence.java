package io.freshet.core.lag;

/**
 * What a router learned about the replica's lag, sent to its node's lag sampler (node-local,
 * request-reply): the reply is the sampler's {@link Estimate} after taking it in.
 */
public sealed interface Evidence permits Evidence.Observed, Evidence.UpperBound, Evidence.Measured, Evidence.Ask {

  /** A stale read: the replica was at least {@code lagMs} behind (a lower bound, widens the estimate at once). */
  record Observed(long lagMs) implements Evidence {}

  /** A read proved the replica applies commits within {@code lagMs} (caps the estimate). */
  record UpperBound(long lagMs) implements Evidence {}

  /** A delay a router measured by bracketing an apply between two reads (counts as a sample). */
  record Measured(long lagMs) implements Evidence {}

  /** No evidence: only asks for the estimate (and, like a {@link Touch}, keeps the sampler sampling). */
  record Ask() implements Evidence {}
}
