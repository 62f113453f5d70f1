package io.freshet.router.streams;

import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/** {@link StreamSource} on PostgreSQL: one query per round of reads, whatever the number of streams. */
public final class PgStreamSource implements StreamSource {

  /** Every final status sets {@code completed_at}, so it alone says the run ended. */
  static final String STATE = "SELECT r.completed_at IS NOT NULL AS ended, s.run_id IS NOT NULL AS present,"
      + " s.next_seq - 1 AS last_seq, s.appended_at, s.closed_at IS NOT NULL AS closed"
      + " FROM task_runs r LEFT JOIN realtime_streams s ON s.run_id = r.friendly_id AND s.stream_key = $3 AND s.env_id = r.env_id"
      + " WHERE r.env_id = $1 AND r.friendly_id = $2";
  static final String CHUNKS = "SELECT w.i, c.seq, c.data, c.created_at"
      + " FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[]) WITH ORDINALITY AS w(run_id, stream_key, after_seq, lim, i)"
      + " CROSS JOIN LATERAL (SELECT seq, data, created_at FROM stream_chunks c WHERE c.run_id = w.run_id"
      + "   AND c.stream_key = w.stream_key AND c.seq > w.after_seq ORDER BY c.seq LIMIT w.lim) c"
      + " ORDER BY w.i, c.seq";

  private final List<Pool> replicas;
  private final Pool primary;
  private final IntSupplier fastest;

  /**
   * @param replicas the read side, in {@code db.replica.uris} order (the primary alone in primary-reads mode)
   * @param fastest where reads that name no replica go
   */
  public PgStreamSource(List<Pool> replicas, Pool primary, IntSupplier fastest) {
    this.replicas = List.copyOf(replicas);
    this.primary = primary;
    this.fastest = fastest;
  }

  public PgStreamSource(Pool replica, Pool primary) {
    this(List.of(replica), primary, () -> 0);
  }

  @Override
  public Future<StreamState> primaryState(StreamRef stream) {
    return primary.preparedQuery(STATE).execute(Tuple.of(stream.envId(), stream.runId(), stream.key())).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      boolean present = row.getBoolean("present");
      LocalDateTime appended = row.getLocalDateTime("appended_at");
      return new StreamState(row.getBoolean("ended"), present, present ? row.getLong("last_seq") : -1,
          appended == null ? null : epochMs(appended), present && row.getBoolean("closed"));
    });
  }

  @Override
  public Future<List<List<StreamChunk>>> read(List<ChunkRead> reads, boolean fromPrimary) {
    return read(reads, fromPrimary, fastest.getAsInt());
  }

  @Override
  public Future<List<List<StreamChunk>>> read(List<ChunkRead> reads, boolean fromPrimary, int replica) {
    Tuple params = Tuple.tuple()
        .addArrayOfString(reads.stream().map(r -> r.stream().runId()).toArray(String[]::new))
        .addArrayOfString(reads.stream().map(r -> r.stream().key()).toArray(String[]::new))
        .addArrayOfLong(reads.stream().map(ChunkRead::afterSeq).toArray(Long[]::new))
        .addArrayOfInteger(reads.stream().map(ChunkRead::limit).toArray(Integer[]::new));
    Pool from = fromPrimary ? primary : replicas.get(replica >= 0 && replica < replicas.size() ? replica : 0);
    return from.preparedQuery(CHUNKS).execute(params).map(rows -> {
      List<List<StreamChunk>> out = new ArrayList<>(reads.size());
      for (int i = 0; i < reads.size(); i++) {
        out.add(new ArrayList<>());
      }
      for (Row row : rows) {
        out.get((int) (row.getLong(0) - 1)).add(new StreamChunk(row.getLong(1), epochMs(row.getLocalDateTime(3)), row.getString(2)));
      }
      return out;
    });
  }

  private static long epochMs(LocalDateTime utc) {
    return utc.toInstant(ZoneOffset.UTC).toEpochMilli();
  }
}
