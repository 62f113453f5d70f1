package io.freshet.lag;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aurora PostgreSQL reports each reader's lag behind the writer in {@code aurora_replica_status()}.
 *
 * <p>Which rows are this replica's lag is {@link AuroraRows}: with {@link AuroraRows#OWN} the row of
 * the instance its connections reach ({@code aurora_db_instance_identifier()}, Aurora 13.7 and
 * later), with {@link AuroraRows#SLOWEST} the largest reader lag. In {@code OWN}, every sample also
 * names the instance it ran on; the first name is kept, and a sample that names another proves a
 * balancer in front of the URI, so the source reports the slowest reader from then on and says so
 * once in the log. A sample with no row of its own (the connection reached the writer, or the
 * identifier function is missing) reports the slowest reader too.
 *
 * <p>Whether the functions exist is checked once, with {@code to_regproc}, and remembered. Calling
 * a function where it is absent fails with "function does not exist", which the server logs and
 * drivers report as an error on every sample; asking first keeps that noise off the wire.
 */
public final class AuroraLagSource implements LagSource {

  private static final Logger LOG = LoggerFactory.getLogger(AuroraLagSource.class);

  static final String DETECT_SQL = "SELECT to_regproc('aurora_replica_status') IS NOT NULL AS available,"
      + " to_regproc('aurora_db_instance_identifier') IS NOT NULL AS named";

  /** The writer's own row is excluded; with no reader rows left the replica handle is the writer, lag 0. */
  static final String LAG_SQL = "SELECT max(replica_lag_in_msec)::float8 AS lag FROM aurora_replica_status()"
      + " WHERE session_id <> 'MASTER_SESSION_ID' AND replica_lag_in_msec IS NOT NULL";

  /** The instance the connection reached, its own reader row's lag (null on the writer), and the slowest reader's. */
  static final String OWN_LAG_SQL = "SELECT aurora_db_instance_identifier()::text AS instance,"
      + " max(replica_lag_in_msec) FILTER (WHERE server_id = aurora_db_instance_identifier())::float8 AS own,"
      + " max(replica_lag_in_msec)::float8 AS lag"
      + " FROM aurora_replica_status() WHERE session_id <> 'MASTER_SESSION_ID' AND replica_lag_in_msec IS NOT NULL";

  private record Detected(boolean available, boolean named) {}

  private final SqlClient replica;
  private final String label;
  private AuroraRows rows;
  /** The instance this replica's samples reached, once one named it ({@link AuroraRows#OWN}). */
  private String instance;
  /** The detection result once known; a failed detection is forgotten so the next sample asks again. */
  private Future<Detected> detected;

  /** A source that reports the slowest reader's lag. */
  public AuroraLagSource(SqlClient replica) {
    this(replica, AuroraRows.SLOWEST, "replica");
  }

  /**
   * @param rows {@link AuroraRows#OWN} or {@link AuroraRows#SLOWEST} (resolve {@code AUTO} with {@link AuroraRows#forHost})
   * @param label how the log names the replica ({@code replica 2 (host:port)})
   */
  public AuroraLagSource(SqlClient replica, AuroraRows rows, String label) {
    if (rows == AuroraRows.AUTO) {
      throw new IllegalArgumentException("resolve AUTO for the replica's host first");
    }
    this.replica = replica;
    this.rows = rows;
    this.label = label;
  }

  @Override
  public Future<Long> sample() {
    return detect().compose(found -> {
      if (!found.available()) {
        return Future.failedFuture(new UnsupportedLagSourceException("aurora_replica_status() does not exist on the replica"));
      }
      if (rows == AuroraRows.OWN && found.named()) {
        return replica.query(OWN_LAG_SQL).execute().map(result -> ownLagOf(result.iterator().next()));
      }
      return replica.query(LAG_SQL).execute().map(result -> lagOf(result.iterator().next(), "lag"));
    });
  }

  @Override
  public String name() {
    return "aurora";
  }

  /** The rows this source reports now: {@link AuroraRows#OWN} turns to {@link AuroraRows#SLOWEST} when a balancer shows. */
  public AuroraRows rows() {
    return rows;
  }

  private Long ownLagOf(Row row) {
    String reached = row.getString("instance");
    if (instance == null && reached != null) {
      instance = reached;
      LOG.info("{}: Aurora instance {}, gated on its own lag", label, reached);
    } else if (reached != null && !reached.equals(instance)) {
      rows = AuroraRows.SLOWEST;
      LOG.warn("{} reaches two Aurora instances ({} and {}): a balancer is in front of it, so it is gated on the slowest"
          + " reader from now on; list the instance endpoints in db.replica.uris to gate on each one's own lag", label, instance, reached);
      return lagOf(row, "lag");
    }
    return row.getValue("own") != null ? lagOf(row, "own") : lagOf(row, "lag");
  }

  private Future<Detected> detect() {
    if (detected == null) {
      Future<Detected> probe = replica.query(DETECT_SQL).execute().map(result -> {
        Row row = result.iterator().next();
        return new Detected(Boolean.TRUE.equals(row.getBoolean("available")), Boolean.TRUE.equals(row.getBoolean("named")));
      });
      detected = probe;
      probe.onFailure(err -> {
        if (detected == probe) {
          detected = null;
        }
      });
    }
    return detected;
  }

  private static Long lagOf(Row row, String column) {
    Double lag = row.getDouble(column);
    // Round up: the estimate delays reads, and an under-estimate is the costlier mistake.
    return lag == null ? 0L : Math.max(0L, (long) Math.ceil(lag));
  }
}
