package io.freshet.bench;

import io.freshet.bench.FreshnessClassifier.Tally;

/**
 * The result of one mode at one point of the sweep.
 *
 * @param replicaQueries statements run on the replica pool while the point ran (hydrates, snapshots,
 *     backstops and the lag sampler's probes)
 * @param primaryQueries statements run on the primary pool while the point ran, minus the
 *     workload's own writes (2 per metadata update, 1 per trigger: see {@link Workload})
 * @param hydrates the router's read-side queries ({@code freshet_hydrate_queries_total}), which go to
 *     the primary in {@code primary-reads} and to the replica otherwise
 * @param staleRecovered rows the tripwire withheld and a retry then read fresh (gated only)
 * @param staleGaveUp rows delivered stale after the retries ran out (gated only)
 * @param lagEstimateMs the node's lag estimate ({@code freshet_replica_lag_estimate}) at the end
 */
public record SweepPoint(String mode, long applyDelayMs, long intervalMs, int runs, int longPollSubscribers,
    int sseSubscribers, long writes, Tally tally, double replicaQueries, double primaryQueries, double hydrates,
    long durationMs, double staleRecovered, double staleGaveUp, double lagEstimateMs) {

  public double perChange(double queries) {
    return tally.delivered == 0 ? Double.NaN : queries / tally.delivered;
  }

  public long p(double percentile) {
    return tally.latency.percentile(percentile);
  }
}
