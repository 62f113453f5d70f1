package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.PgText;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.vertx.core.Future;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
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
      + " RETURNING " + RunWrites.RETURNING + ", status";

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

  /** Replies {@code {id}}; cancelling a finished run changes nothing and still succeeds. */
  Future<JsonObject> cancel(String envId, String runId) {
    return primary.preparedQuery(CANCEL).execute(Tuple.of(envId, runId, RunWrites.FINAL_STATUS_ARRAY)).compose(rows -> {
      if (rows.size() > 0) {
        publish.accept(WrittenRun.from(rows.iterator().next()).toChangeRecord(envId));
        return Future.succeededFuture(new JsonObject().put("id", runId));
      }
      return status(envId, runId).map(status -> new JsonObject().put("id", runId));
    });
  }

  /** Replies {@code {id, status, updatedAt}} with the raw DB status and the new version as ISO-8601 UTC. */
  Future<JsonObject> transition(String envId, String runId, JsonObject command) {
    Object to = command.getValue("to");
    if (!(to instanceof String target)) {
      throw FreshetException.badRequest("to is required: queued, executing, completed or failed");
    }
    Tuple params = Tuple.of(envId, runId, RunWrites.FINAL_STATUS_ARRAY);
    String sql;
    switch (target) {
      case "queued" -> sql = QUEUED;
      case "executing" -> sql = EXECUTING;
      case "completed" -> {
        sql = COMPLETED;
        Object output = command.getValue("output");
        String outputType = JsonFields.optString(command, "outputType", "outputType");
        if (output == null) {
          params.addString(null).addString(null);
        } else if (output instanceof String s) {
          params.addString(s).addString(outputType != null ? outputType : "application/json");
        } else {
          params.addString(Json.encode(output)).addString("application/json");
        }
        params.addInteger(usageDurationMs(command));
      }
      case "failed" -> {
        sql = FAILED;
        params.addValue(taskRunError(command.getValue("error"))).addInteger(usageDurationMs(command));
      }
      default -> throw FreshetException.badRequest("to must be queued, executing, completed or failed, not '" + target + "'");
    }
    return primary.preparedQuery(sql).execute(params).compose(rows -> {
      if (rows.size() == 0) {
        return status(envId, runId).map(status -> {
          throw FreshetException.unprocessable("Run " + runId + " is already in a final status (" + status
              + ") and cannot move to " + target);
        });
      }
      Row row = rows.iterator().next();
      WrittenRun written = WrittenRun.from(row);
      publish.accept(written.toChangeRecord(envId));
      return Future.succeededFuture(new JsonObject()
          .put("id", runId)
          .put("status", row.getString("status"))
          .put("updatedAt", iso(written.updatedAt())));
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

  private static Integer usageDurationMs(JsonObject command) {
    Long ms = JsonFields.optWhole(command, "usageDurationMs", "usageDurationMs");
    if (ms == null) {
      return null;
    }
    if (ms < 0 || ms > Integer.MAX_VALUE) {
      throw FreshetException.badRequest("usageDurationMs must be an integer from 0 to " + Integer.MAX_VALUE);
    }
    return ms.intValue();
  }

  /** A TaskRunError object as the engine reports it; a bare string becomes a STRING_ERROR. */
  static JsonObject taskRunError(Object error) {
    if (error == null) {
      return null;
    }
    if (error instanceof String raw) {
      return new JsonObject().put("type", "STRING_ERROR").put("raw", raw);
    }
    if (error instanceof JsonObject object) {
      if (!(object.getValue("type") instanceof String)) {
        throw FreshetException.badRequest("error.type is required (BUILT_IN_ERROR, STRING_ERROR, CUSTOM_ERROR, INTERNAL_ERROR)");
      }
      return object;
    }
    throw FreshetException.badRequest("error must be a TaskRunError object or a string");
  }

  /** ISO-8601 UTC with milliseconds, as the SDK parses dates. */
  static String iso(LocalDateTime utc) {
    return PgText.timestamp(utc) + "Z";
  }
}
