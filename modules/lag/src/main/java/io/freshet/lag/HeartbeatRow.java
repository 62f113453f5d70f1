package io.freshet.lag;

import io.freshet.core.PgText;
import io.freshet.core.lag.Heartbeat;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

/**
 * The replica-lag heartbeat's one row on the primary ({@code freshet_heartbeat}, schema version 2):
 * one node bumps it every sample interval and announces each write as a {@link Heartbeat}; every
 * node reads it back on its replica to time when the replica applied it.
 */
final class HeartbeatRow {

  /** What a replica shows: the newest heartbeat it applied (0 before the first) and its last replayed commit. */
  record Seen(long seq, Long replayedAtMs) {}

  static final String WRITE = "INSERT INTO freshet_heartbeat AS h (id, seq, at) VALUES (1, 1, clock_timestamp() AT TIME ZONE 'utc')"
      + " ON CONFLICT (id) DO UPDATE SET seq = h.seq + 1, at = EXCLUDED.at RETURNING seq, at";

  /** One row always comes back, so the replay position arrives even before the first heartbeat. */
  static final String READ = "SELECT h.seq, (extract(epoch FROM r.replayed) * 1000)::bigint AS replayed"
      + " FROM (SELECT pg_last_xact_replay_timestamp() AS replayed) r LEFT JOIN freshet_heartbeat h ON h.id = 1";

  private HeartbeatRow() {}

  static Future<Heartbeat> write(SqlClient primary) {
    return primary.query(WRITE).execute().map(rows -> {
      Row row = rows.iterator().next();
      return new Heartbeat(row.getLong("seq"), PgText.epochMillis(row.getLocalDateTime("at")));
    });
  }

  static Future<Seen> read(SqlClient replica) {
    return replica.query(READ).execute().map(rows -> {
      Row row = rows.iterator().next();
      Long seq = row.getLong("seq");
      return new Seen(seq == null ? 0 : seq, row.getLong("replayed"));
    });
  }
}
