package io.freshet.core.lag;

import java.util.List;

/**
 * The lag sampler's view of the replicas, its answer on {@code lagState()} (node-local,
 * request-reply): {@code /health} and the dashboard report {@code lagMs}, {@code source} and each replica.
 *
 * @param lagMs the estimate the gate waits on: the fastest replica in rotation (with none in rotation, the fastest of all)
 * @param source what drives that replica's estimate, as in {@link Estimate#source()}
 * @param sampling whether feeds keep the sampler sampling right now
 * @param replicaError why the last probe of that replica failed; null unless it did (always without a replica)
 * @param lastMeasuredAgoMs how long ago a probe of that replica last answered; null before the first, and without a replica
 * @param replicas every replica, in {@code db.replica.uris} order (empty without a replica)
 */
public record LagState(long lagMs, String source, boolean sampling, String replicaError, Long lastMeasuredAgoMs,
    List<Replica> replicas) {

  /**
   * One replica.
   *
   * @param name how logs and metrics name it ({@code 1}, {@code 2}, … in {@code db.replica.uris} order)
   * @param endpoint its host:port
   * @param lagMs its estimate
   * @param inRotation whether reads go to it
   * @param error why its last probe failed, or null
   */
  public record Replica(String name, String endpoint, long lagMs, boolean inRotation, String error) {}
}
