package io.freshet.lag;

import io.vertx.core.Future;

/**
 * One way of measuring how far the read replica trails the primary. Probes run on the replica
 * only; the primary is never asked.
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
}
