package io.freshet.core.lag;

/**
 * The lag sampler's estimate of how far the replica trails the primary: published on the node
 * whenever it changes, and the reply to every {@link Evidence}.
 *
 * @param lagMs the estimate, in milliseconds
 * @param source what drives it: {@code heartbeat}, the sampled source ({@code vanilla-pg},
 *     {@code aurora}, {@code undetected}), or {@code none} without a replica
 * @param replayedAtMs when the replica's replay just moved: the commit time (primary clock, epoch
 *     ms) of the last transaction it replayed; null otherwise (and always in a reply)
 */
public record Estimate(long lagMs, String source, Long replayedAtMs) {

  /** An estimate that says nothing about replay progress. */
  public Estimate(long lagMs, String source) {
    this(lagMs, source, null);
  }
}
