package io.freshet.lag;

import io.vertx.core.Future;

/**
 * One way of measuring how far the read replica trails the primary, sampled every interval. Probes
 * run on the replica only; the primary is never asked (the heartbeat, which writes there, is a
 * {@link HeartbeatProbe} beside the sampled source).
 */
public interface LagSource {

  /**
   * Measures the lag now, in milliseconds. Succeeds with {@code null} when the lag cannot be
   * honestly measured at this moment; fails on an error, or with
   * {@link UnsupportedLagSourceException} when this source does not apply to the database.
   */
  Future<Long> sample();

  /** A short stable name for logs, metrics and the published estimate ({@code aurora}, {@code vanilla-pg}, ...). */
  String name();

  /**
   * The commit time (primary clock, epoch ms) of the last transaction the replica had replayed at
   * the last sample, when the source reads it; null otherwise. Routers re-read the runs they watch
   * when it moves.
   */
  default Long lastReplayedAtMs() {
    return null;
  }

  /**
   * Whether the last sample failed to reach the replica, for a source that reports a failure as a
   * sample it skipped ({@link FirstSupportedLagSource}): the replica's rotation counts it as a failed probe.
   */
  default boolean lastFailed() {
    return false;
  }
}
