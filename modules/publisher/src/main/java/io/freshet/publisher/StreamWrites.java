package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.write.WriteReply.StreamProbed;
import io.freshet.core.write.WriteReply.StreamRegistered;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A stream's life outside its appends ({@link StreamAppender}): registering it on its run (the
 * SDK's {@code PUT}), the resume probe of a writer (its last stored chunk index), closing every
 * stream of a run that ended, and the retention sweep.
 *
 * <p>Registering adds the key to the run's {@code realtime_streams} column with a new row version,
 * and publishes the change: that is how {@code runs.subscribeToRun(id).withStreams()} learns of the
 * stream, through the run's own feed.
 */
final class StreamWrites {

  static final String RUN = "SELECT status, $3 = ANY(realtime_streams) AS listed FROM task_runs WHERE env_id = $1 AND friendly_id = $2";
  static final String STREAM = "SELECT closed_at IS NOT NULL AS closed, next_seq - 1 AS last_seq FROM realtime_streams"
      + " WHERE env_id = $1 AND run_id = $2 AND stream_key = $3";
  static final String COUNT = "SELECT count(*) FROM realtime_streams WHERE env_id = $1 AND run_id = $2";
  static final String CREATE = "INSERT INTO realtime_streams (env_id, run_id, stream_key) VALUES ($1, $2, $3)"
      + " ON CONFLICT (run_id, stream_key) DO NOTHING";
  static final String LIST = "UPDATE task_runs SET realtime_streams = array_append(realtime_streams, $3), updated_at = "
      + RunWrites.NEXT_UPDATED_AT + " FROM " + RunWrites.CLOCK
      + " WHERE env_id = $1 AND friendly_id = $2 AND NOT ($3 = ANY(realtime_streams)) RETURNING " + RunWrites.RETURNING;
  static final String LAST_CHUNK = "SELECT max(chunk_index) FROM stream_chunks WHERE run_id = $1 AND stream_key = $2 AND client_id = $3";
  static final String CLOSE_RUN = "UPDATE realtime_streams SET closed_at = t.now FROM " + RunWrites.CLOCK
      + " WHERE env_id = $1 AND run_id = $2 AND closed_at IS NULL RETURNING stream_key, next_seq - 1 AS last_seq, t.now AS at";
  /**
   * Up to 100 streams past retention at a time, with their chunks; SKIP LOCKED so the nodes of a
   * cluster sweeping together split the work instead of queueing on each other.
   */
  static final String SWEEP = "WITH old AS (SELECT run_id, stream_key FROM realtime_streams"
      + " WHERE COALESCE(closed_at, appended_at, created_at) < (now() AT TIME ZONE 'utc') - make_interval(hours => $1)"
      + " LIMIT 100 FOR UPDATE SKIP LOCKED),"
      + " chunks AS (DELETE FROM stream_chunks c USING old WHERE c.run_id = old.run_id AND c.stream_key = old.stream_key)"
      + " DELETE FROM realtime_streams s USING old WHERE s.run_id = old.run_id AND s.stream_key = old.stream_key RETURNING 1";

  private final Pool primary;
  private final Consumer<ChangeRecord> publish;
  private final Consumer<StreamAnnouncement> announce;
  private final int maxStreamsPerRun;

  StreamWrites(Pool primary, Consumer<ChangeRecord> publish, Consumer<StreamAnnouncement> announce, int maxStreamsPerRun) {
    this.primary = primary;
    this.publish = publish;
    this.announce = announce;
    this.maxStreamsPerRun = maxStreamsPerRun;
  }

  /**
   * Makes sure stream {@code key} of the run exists and is listed on the run: 404 for an unknown
   * run, 400 when a run that already ended would get a new stream, 422 past the per-run limit. An
   * existing stream, closed or not, is answered as it is: the writer's POST gets the 409.
   */
  Future<StreamRegistered> register(String envId, String runId, String key, String clientId) {
    Tuple ids = Tuple.of(envId, runId, key);
    return primary.preparedQuery(RUN).execute(ids).compose(runs -> {
      if (runs.size() == 0) {
        throw FreshetException.notFound("Run " + runId + " not found");
      }
      Row run = runs.iterator().next();
      boolean ended = RunWrites.isFinal(run.getString("status"));
      boolean listed = Boolean.TRUE.equals(run.getBoolean("listed"));
      return primary.preparedQuery(STREAM).execute(ids).compose(streams -> {
        if (streams.size() > 0) {
          return Future.succeededFuture(streams.iterator().next());
        }
        if (ended) {
          throw FreshetException.badRequest("Cannot initialize a realtime stream on a completed run (" + runId + ")");
        }
        return primary.preparedQuery(COUNT).execute(Tuple.of(envId, runId)).compose(count -> {
          if (count.iterator().next().getLong(0) >= maxStreamsPerRun) {
            throw FreshetException.unprocessable("run " + runId + " already has " + maxStreamsPerRun
                + " streams (streams.maxStreamsPerRun)");
          }
          return primary.preparedQuery(CREATE).execute(ids)
              .compose(v -> primary.preparedQuery(STREAM).execute(ids)).map(rows -> rows.iterator().next());
        });
      }).compose(stream -> (listed ? Future.<Void>succeededFuture() : list(envId, runId, key))
          .compose(v -> lastChunkIndex(runId, key, clientId))
          .map(last -> new StreamRegistered(Boolean.TRUE.equals(stream.getBoolean("closed")), stream.getLong("last_seq"), last)));
    });
  }

  /** Adds the key to the run's {@code realtimeStreams} and publishes the run's change. */
  private Future<Void> list(String envId, String runId, String key) {
    return primary.preparedQuery(LIST).execute(Tuple.of(envId, runId, key)).map(rows -> {
      if (rows.size() > 0) {
        publish.accept(WrittenRun.from(rows.iterator().next()).toChangeRecord(envId));
      }
      return null;
    });
  }

  /** The writer's last stored chunk index, -1 when it stored none (or sent no client id). */
  Future<Long> lastChunkIndex(String runId, String key, String clientId) {
    if (clientId == null) {
      return Future.succeededFuture(-1L);
    }
    return primary.preparedQuery(LAST_CHUNK).execute(Tuple.of(runId, key, clientId)).map(rows -> {
      Integer last = rows.iterator().next().getInteger(0);
      return last == null ? -1L : last.longValue();
    });
  }

  /** The resume probe (HEAD): the writer's last stored chunk index, 404 for a run not in this environment. */
  Future<StreamProbed> probe(String envId, String runId, String key, String clientId) {
    return primary.preparedQuery(RUN).execute(Tuple.of(envId, runId, key)).compose(runs -> {
      if (runs.size() == 0) {
        throw FreshetException.notFound("Run " + runId + " not found");
      }
      return lastChunkIndex(runId, key, clientId).map(StreamProbed::new);
    });
  }

  /**
   * A run ended: every open stream of it is closed, and the end is announced, so readers of its
   * streams (and of keys it never wrote) finish once they have what was committed.
   */
  Future<Void> closeRun(String envId, String runId) {
    return primary.preparedQuery(CLOSE_RUN).execute(Tuple.of(envId, runId)).map(rows -> {
      List<StreamAnnouncement.Item> items = new ArrayList<>();
      for (Row row : rows) {
        items.add(new StreamAnnouncement.Item(runId, row.getString("stream_key"), row.getLong("last_seq"),
            epochMs(row.getLocalDateTime("at")), true));
      }
      announce.accept(new StreamAnnouncement(envId, items, List.of(runId)));
      return null;
    });
  }

  /** Deletes streams past retention, 100 at a time; completes with how many went. */
  Future<Integer> sweep(int retentionHours) {
    return primary.preparedQuery(SWEEP).execute(Tuple.of(retentionHours)).compose(rows -> rows.rowCount() == 100
        ? sweep(retentionHours).map(more -> more + 100) : Future.succeededFuture(rows.rowCount()));
  }

  static long epochMs(LocalDateTime utc) {
    return utc.toInstant(ZoneOffset.UTC).toEpochMilli();
  }
}
