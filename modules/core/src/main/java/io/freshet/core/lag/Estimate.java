package io.freshet.core.lag;

/**
 * The lag sampler's view of one read replica: published on the node whenever it changes, and the
 * reply to every {@link Evidence} about that replica.
 *
 * @param replica which replica (its index in {@code db.replica.uris}, from 0)
 * @param lagMs the estimate, in milliseconds
 * @param source what drives it: {@code heartbeat}, the sampled source ({@code vanilla-pg},
 *     {@code aurora}, {@code undetected}), or {@code none} without a replica
 * @param replayedAtMs when the replica's replay just moved: the commit time (primary clock, epoch
 *     ms) of the last transaction it replayed; null otherwise (and always in a reply)
 * @param inRotation whether reads may go to it (not down, paused or far behind)
 */
public record Estimate(int replica, long lagMs, String source, Long replayedAtMs, boolean inRotation) {

  /** An estimate of a replica in rotation that says nothing about replay progress. */
  public Estimate(int replica, long lagMs, String source) {
    this(replica, lagMs, source, null, true);
  }
}
