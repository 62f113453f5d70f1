package io.freshet.lag;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

/**
 * Aurora PostgreSQL reports each reader's lag behind the writer in {@code aurora_replica_status()}.
 *
 * <p>Whether the function exists is checked once, with {@code to_regproc}, and remembered. Calling
 * the function where it is absent fails with "function does not exist", which the server logs
 * and drivers report as an error on every sample; asking first keeps that noise off the wire.
 */
public final class AuroraLagSource implements LagSource {

  static final String DETECT_SQL = "SELECT to_regproc('aurora_replica_status') IS NOT NULL AS available";

  /** The writer's own row is excluded; with no reader rows left the replica handle is the writer, lag 0. */
  static final String LAG_SQL = "SELECT max(replica_lag_in_msec)::float8 AS lag FROM aurora_replica_status()"
      + " WHERE session_id <> 'MASTER_SESSION_ID' AND replica_lag_in_msec IS NOT NULL";

  private final SqlClient replica;
  /** The detection result once known; a failed detection is forgotten so the next sample asks again. */
  private Future<Boolean> available;

  public AuroraLagSource(SqlClient replica) {
    this.replica = replica;
  }

  @Override
  public Future<Long> sample() {
    return detect().compose(present -> present
        ? replica.query(LAG_SQL).execute().map(rows -> lagOf(rows.iterator().next()))
        : Future.failedFuture(new UnsupportedLagSourceException("aurora_replica_status() does not exist on the replica")));
  }

  @Override
  public String name() {
    return "aurora";
  }

  private Future<Boolean> detect() {
    if (available == null) {
      Future<Boolean> probe = replica.query(DETECT_SQL).execute()
          .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean("available")));
      available = probe;
      probe.onFailure(err -> {
        if (available == probe) {
          available = null;
        }
      });
    }
    return available;
  }

  private static Long lagOf(Row row) {
    Double lag = row.getDouble("lag");
    // Round up: the estimate delays reads, and an under-estimate is the costlier mistake.
    return lag == null ? 0L : Math.max(0L, (long) Math.ceil(lag));
  }
}
