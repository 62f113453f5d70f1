package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.PgText;
import io.freshet.core.write.WriteCommand.Transition;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDateTime;
import java.util.function.Consumer;

/**
 * Status changes: cancel from the API, and the transitions an engine drives. Each is one UPDATE
 * that only matches a run not yet in a final status; {@code completed_at} is set with every final
 * status, because realtime clients close a run's feed on it.
 */
final class StatusTransitions {

  private static final String SET_VERSION = "updated_at = " + RunWrites.NEXT_UPDATED_AT;
  private static final String WHERE_OPEN = " FROM " + RunWrites.CLOCK
      + " WHERE env_id = $1 AND friendly_id = $2 AND NOT (status = ANY($3::text[]))"
      + " RETURNING " + RunWrites.RETURNING;

  static final String CANCEL = "UPDATE task_runs SET status = 'CANCELED', completed_at = t.now, " + SET_VERSION + WHERE_OPEN;
  static final String QUEUED = "UPDATE task_runs SET status = 'PENDING', queued_at = t.now, " + SET_VERSION + WHERE_OPEN;
  static final String EXECUTING = "UPDATE task_runs SET status = 'EXECUTING', started_at = COALESCE(started_at, t.now), "
      + SET_VERSION + WHERE_OPEN;
  static final String COMPLETED = "UPDATE task_runs SET status = 'COMPLETED_SUCCESSFULLY', output = $4, output_type = $5,"
      + " usage_duration_ms = COALESCE($6::int4, usage_duration_ms), completed_at = t.now, " + SET_VERSION + WHERE_OPEN;
  static final String FAILED = "UPDATE task_runs SET status = 'COMPLETED_WITH_ERRORS', error = $4::jsonb,"
      + " usage_duration_ms = COALESCE($5::int4, usage_duration_ms), completed_at = t.now, " + SET_VERSION + WHERE_OPEN;
  static final String STATUS = "SELECT status FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  private final Pool primary;
  private final Consumer<ChangeRecord> publish;

  StatusTransitions(Pool primary, Consumer<ChangeRecord> publish) {
    this.primary = primary;
    this.publish = publish;
  }

  /** Cancelling a finished run changes nothing and still succeeds. */
  Future<Cancelled> cancel(String envId, String runId) {
    return primary.preparedQuery(CANCEL).execute(Tuple.of(envId, runId, RunWrites.FINAL_STATUS_ARRAY)).compose(rows -> {
      if (rows.size() > 0) {
        publish.accept(WrittenRun.from(rows.iterator().next()).toChangeRecord(envId));
        return Future.succeededFuture(new Cancelled(runId));
      }
      return status(envId, runId).map(status -> new Cancelled(runId));
    });
  }

  /** Replies with the raw DB status and the new version; 422 for a run already in a final status. */
  Future<Transitioned> transition(Transition command) {
    String envId = command.envId();
    String runId = command.runId();
    Tuple params = Tuple.of(envId, runId, RunWrites.FINAL_STATUS_ARRAY);
    String sql = switch (command.to()) {
      case QUEUED -> QUEUED;
      case EXECUTING -> EXECUTING;
      case COMPLETED -> {
        params.addString(command.output()).addString(command.outputType()).addInteger(command.usageDurationMs());
        yield COMPLETED;
      }
      case FAILED -> {
        params.addValue(command.error()).addInteger(command.usageDurationMs());
        yield FAILED;
      }
    };
    return primary.preparedQuery(sql).execute(params).compose(rows -> {
      if (rows.size() == 0) {
        return status(envId, runId).map(status -> {
          throw FreshetException.unprocessable("Run " + runId + " is already in a final status (" + status
              + ") and cannot move to " + command.to().wireName());
        });
      }
      Row row = rows.iterator().next();
      WrittenRun written = WrittenRun.from(row);
      publish.accept(written.toChangeRecord(envId));
      return Future.succeededFuture(new Transitioned(runId, row.getString("status"), iso(written.updatedAt())));
    });
  }

  /** The run's status, or 404. */
  private Future<String> status(String envId, String runId) {
    return primary.preparedQuery(STATUS).execute(Tuple.of(envId, runId)).map(rows -> {
      if (rows.size() == 0) {
        throw FreshetException.notFound("Run not found");
      }
      return rows.iterator().next().getString(0);
    });
  }

  /** ISO-8601 UTC with milliseconds, as the SDK parses dates. */
  static String iso(LocalDateTime utc) {
    return PgText.timestamp(utc) + "Z";
  }
}
