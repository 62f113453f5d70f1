package io.freshet.core.lag;

/**
 * The lag sampler's view of the replica, its answer on {@code lagState()} (node-local,
 * request-reply): {@code /health} and the dashboard report {@code lagMs} and {@code source}.
 *
 * @param lagMs the current estimate, in milliseconds
 * @param source what drives it, as in {@link Estimate#source()}
 * @param sampling whether feeds keep the sampler sampling right now
 * @param replicaError why the last probe of the replica failed; null unless it did (always without a replica)
 * @param lastMeasuredAgoMs how long ago a probe of the replica last answered; null before the first, and without a replica
 */
public record LagState(long lagMs, String source, boolean sampling, String replicaError, Long lastMeasuredAgoMs) {}
