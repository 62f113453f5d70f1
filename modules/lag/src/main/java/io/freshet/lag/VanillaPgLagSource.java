package io.freshet.lag;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/**
 * Plain PostgreSQL streaming replication, asked on the standby whether it has applied all the WAL
 * it has received.
 *
 * <p>Caught up (or not a standby at all, i.e. the "replica" is the primary) is a lag of 0. Mid-apply
 * the lag is not honestly measurable from the replica, so the sample is {@code null} and the
 * estimate keeps what it knew. {@code now() - pg_last_xact_replay_timestamp()} looks like a lag but
 * is the age of the last replayed commit: on a quiet system it reads as the whole gap between two
 * writes (seconds or minutes) even though the standby is fully caught up.
 */
public final class VanillaPgLagSource implements LagSource {

  static final String CAUGHT_UP_SQL = "SELECT CASE WHEN NOT pg_is_in_recovery() THEN true"
      + " WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN true"
      + " ELSE false END AS caught_up,"
      + " (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::bigint AS replayed";

  private final SqlClient replica;
  private volatile Long replayedAtMs;

  public VanillaPgLagSource(SqlClient replica) {
    this.replica = replica;
  }

  @Override
  public Future<Long> sample() {
    return replica.query(CAUGHT_UP_SQL).execute().map(rows -> {
      var row = rows.iterator().next();
      replayedAtMs = row.getLong("replayed");
      return Boolean.TRUE.equals(row.getBoolean("caught_up")) ? 0L : null;
    });
  }

  @Override
  public Long lastReplayedAtMs() {
    return replayedAtMs;
  }

  @Override
  public String name() {
    return "vanilla-pg";
  }
}
