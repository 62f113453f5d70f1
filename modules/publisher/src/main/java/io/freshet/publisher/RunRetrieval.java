package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.RunStatuses;
import io.freshet.core.write.WriteReply.RunRetrieved;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code retrieveRun}'s {@code RetrieveRunResponse}, read from the primary so a client that just
 * wrote reads its own write. Absent fields are omitted, never null: the SDK's zod schema rejects
 * null in optional fields.
 */
final class RunRetrieval {

  static final String READ = "SELECT friendly_id, task_identifier, status, created_at, updated_at, started_at,"
      + " delay_until, expired_at, completed_at, idempotency_key, is_test, usage_duration_ms, cost_in_cents,"
      + " base_cost_in_cents, ttl, payload, payload_type, metadata, output, output_type, run_tags, error, batch_id"
      + " FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  private final Pool primary;

  RunRetrieval(Pool primary) {
    this.primary = primary;
  }

  Future<RunRetrieved> retrieve(String envId, String runId) {
    return primary.preparedQuery(READ).execute(Tuple.of(envId, runId)).map(rows -> {
      if (rows.size() == 0) {
        throw FreshetException.notFound("Run not found");
      }
      return response(rows.iterator().next());
    });
  }

  static RunRetrieved response(Row row) {
    String status = RunStatuses.apiStatus(row.getString("status"));
    boolean completed = RunStatuses.isCompleted(status);
    String[] storedTags = row.getArrayOfStrings("run_tags");
    List<String> tags = new ArrayList<>(storedTags == null ? List.of() : Arrays.asList(storedTags));
    tags.sort(null);
    JsonObject out = new JsonObject()
        .put("id", row.getString("friendly_id"))
        .put("status", status)
        .put("taskIdentifier", row.getString("task_identifier"))
        .put("isQueued", RunStatuses.isQueued(status))
        .put("isExecuting", RunStatuses.isExecuting(status))
        .put("isWaiting", status.equals("WAITING"))
        .put("isCompleted", completed)
        .put("isSuccess", status.equals("COMPLETED"))
        .put("isFailed", completed && !status.equals("COMPLETED"))
        .put("isCancelled", status.equals("CANCELED"))
        .put("isTest", row.getBoolean("is_test"))
        .put("createdAt", StatusTransitions.iso(row.getLocalDateTime("created_at")))
        .put("updatedAt", StatusTransitions.iso(row.getLocalDateTime("updated_at")))
        .put("tags", new JsonArray(tags))
        .put("costInCents", row.getDouble("cost_in_cents"))
        .put("baseCostInCents", row.getDouble("base_cost_in_cents"))
        .put("durationMs", row.getInteger("usage_duration_ms"))
        .put("depth", 0)
        .put("triggerFunction", "trigger")
        .put("relatedRuns", new JsonObject())
        .put("attemptCount", row.getLocalDateTime("started_at") != null ? 1 : 0);
    putString(out, "idempotencyKey", row.getString("idempotency_key"));
    putString(out, "ttl", row.getString("ttl"));
    putString(out, "batchId", row.getString("batch_id"));
    putDate(out, "startedAt", row.getLocalDateTime("started_at"));
    putDate(out, "finishedAt", row.getLocalDateTime("completed_at"));
    putDate(out, "delayedUntil", row.getLocalDateTime("delay_until"));
    putDate(out, "expiredAt", row.getLocalDateTime("expired_at"));
    String metadata = row.getString("metadata");
    if (metadata != null) {
      out.put("metadata", MetadataUpdates.parse(metadata));
    }
    String payloadStorePath = putPacket(out, "payload", row.getString("payload"), row.getString("payload_type"));
    String outputStorePath = status.equals("COMPLETED")
        ? putPacket(out, "output", row.getString("output"), row.getString("output_type")) : null;
    Object error = row.getValue("error");
    if (error instanceof JsonObject taskRunError) {
      out.put("error", apiError(taskRunError));
    }
    return new RunRetrieved(out, payloadStorePath, outputStorePath);
  }

  /**
   * Puts {@code field} as the SDK reads it, the parsed value; an offloaded packet is not put but
   * its storage path returned (null otherwise), which the web edge turns into {@code <field>PresignedUrl}.
   */
  private static String putPacket(JsonObject out, String field, String data, String type) {
    if ("application/store".equals(type)) {
      return data == null || data.isEmpty() ? null : data;
    }
    Object value = packet(data, type);
    if (value != null) {
      out.put(field, value);
    }
    return null;
  }

  /**
   * A stored packet as the SDK expects it back: JSON parsed, superjson's {@code json} part, text
   * as a string. An offloaded packet ({@code application/store}) is not inline: see {@link #putPacket}.
   */
  static Object packet(String data, String type) {
    if (data == null) {
      return null;
    }
    String t = type == null ? "application/json" : type;
    switch (t) {
      case "application/json":
        return parseOr(data, data);
      case "application/super+json":
        Object parsed = parseOr(data, null);
        return parsed instanceof JsonObject superjson ? superjson.getValue("json") : null;
      case "application/store":
        return null;
      default:
        return data;
    }
  }

  private static Object parseOr(String text, Object fallback) {
    try {
      return Json.decodeValue(text);
    } catch (DecodeException e) {
      return fallback;
    }
  }

  /** TaskRunError to the API's {@code {message, name?, stackTrace?}}. */
  static JsonObject apiError(JsonObject error) {
    String type = error.getValue("type") instanceof String s ? s : "";
    JsonObject out = new JsonObject();
    switch (type) {
      case "BUILT_IN_ERROR" -> {
        out.put("message", text(error.getValue("message"), ""));
        putString(out, "name", error.getValue("name") instanceof String n ? n : null);
        putString(out, "stackTrace", error.getValue("stackTrace") instanceof String st ? st : null);
      }
      case "STRING_ERROR", "CUSTOM_ERROR" -> out.put("message", text(error.getValue("raw"), ""));
      case "INTERNAL_ERROR" -> {
        out.put("message", text(error.getValue("message"), text(error.getValue("code"), "Internal error")));
        putString(out, "stackTrace", error.getValue("stackTrace") instanceof String st ? st : null);
      }
      default -> out.put("message", text(error.getValue("message"), error.encode()));
    }
    return out;
  }

  private static String text(Object value, String fallback) {
    return value instanceof String s ? s : value == null ? fallback : String.valueOf(value);
  }

  private static void putString(JsonObject out, String key, String value) {
    if (value != null) {
      out.put(key, value);
    }
  }

  private static void putDate(JsonObject out, String key, LocalDateTime value) {
    if (value != null) {
      out.put(key, StatusTransitions.iso(value));
    }
  }
}
