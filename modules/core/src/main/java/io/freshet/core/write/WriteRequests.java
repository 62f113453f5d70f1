package io.freshet.core.write;

import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.freshet.core.write.WriteCommand.AddTags;
import io.freshet.core.write.WriteCommand.BatchItems;
import io.freshet.core.write.WriteCommand.BatchTrigger;
import io.freshet.core.write.WriteCommand.CreateBatch;
import io.freshet.core.write.WriteCommand.Transition;
import io.freshet.core.write.WriteCommand.Trigger;
import io.freshet.core.write.WriteCommand.UpdateMetadata;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The write API's request bodies parsed into {@link WriteCommand}s, once, at the edge: a malformed
 * field is a 400 naming it ({@code options.delay}, {@code items[3].task}), an oversize metadata
 * document a 413 and too many tags on a trigger a 422, before anything is sent to the publisher.
 * Engine transitions from the clustered bus go through {@link #engineTransition} at the publisher.
 */
public final class WriteRequests {

  static final int MAX_REQUEST_KEY_CHARS = 256;
  static final int MAX_RUN_COUNT = 1000;
  static final int MAX_BATCH_TRIGGER_ITEMS = 500;
  /** The largest {@code usageDurationMs} the run row stores (an int4). */
  static final long MAX_USAGE_DURATION_MS = Integer.MAX_VALUE;

  private final TriggerRequest.Limits limits;
  private final Clock clock;

  /** {@code clock}: the moment a relative {@code delay} counts from. */
  public WriteRequests(TriggerRequest.Limits limits, Clock clock) {
    this.limits = limits;
    this.clock = clock;
  }

  /** {@code body}: a {@code TriggerTaskRequestBody}; {@code requestKey}: the retry header, or null. */
  public Trigger trigger(String envId, String taskId, JsonObject body, String requestKey) {
    TriggerRequest request = TriggerRequest.parse(taskId, body, "", limits, clock.instant());
    return new Trigger(envId, request, JsonFields.limited(requestKey, MAX_REQUEST_KEY_CHARS, "requestKey"));
  }

  public static CreateBatch createBatch(String envId, JsonObject body) {
    Long runCount = JsonFields.optWhole(body, "runCount", "runCount");
    if (runCount == null || runCount < 1 || runCount > MAX_RUN_COUNT) {
      throw FreshetException.badRequest("runCount must be an integer from 1 to " + MAX_RUN_COUNT);
    }
    List<String> tasks = taskIdentifiers(JsonFields.optArray(body, "taskIdentifiers", "taskIdentifiers"));
    String key = JsonFields.limited(JsonFields.optString(body, "idempotencyKey", "idempotencyKey"),
        TriggerRequest.MAX_IDEMPOTENCY_KEY_CHARS, "idempotencyKey");
    return new CreateBatch(envId, runCount.intValue(), tasks, key == null || key.isEmpty() ? null : key);
  }

  /**
   * The items of one NDJSON body, in order, up to the first malformed one, which is carried as
   * {@link BatchItems#rejected()}: see there why it is not refused here.
   */
  public BatchItems batchItems(String envId, String batchId, JsonArray rawItems) {
    Instant now = clock.instant();
    List<BatchItems.Item> items = new ArrayList<>(rawItems.size());
    for (int i = 0; i < rawItems.size(); i++) {
      String where = "items[" + i + "].";
      Long validIndex = null;
      try {
        JsonObject item = JsonFields.object(rawItems.getValue(i), "items[" + i + "]");
        Long index = JsonFields.optWhole(item, "index", where + "index");
        if (index == null || index < 0) {
          throw FreshetException.badRequest(where + "index is required and must be an integer >= 0");
        }
        validIndex = index;
        items.add(new BatchItems.Item(index, item(item, where, now)));
      } catch (FreshetException problem) {
        return new BatchItems(envId, batchId, List.copyOf(items), new BatchItems.Rejected(validIndex, problem));
      }
    }
    return new BatchItems(envId, batchId, List.copyOf(items), null);
  }

  public BatchTrigger batchTrigger(String envId, JsonObject body) {
    JsonArray rawItems = JsonFields.optArray(body, "items", "items");
    if (rawItems == null || rawItems.isEmpty() || rawItems.size() > MAX_BATCH_TRIGGER_ITEMS) {
      throw FreshetException.badRequest("items must be an array of 1 to " + MAX_BATCH_TRIGGER_ITEMS + " items");
    }
    Instant now = clock.instant();
    List<TriggerRequest> items = new ArrayList<>(rawItems.size());
    for (int i = 0; i < rawItems.size(); i++) {
      JsonObject item = JsonFields.object(rawItems.getValue(i), "items[" + i + "]");
      items.add(item(item, "items[" + i + "].", now));
    }
    return new BatchTrigger(envId, List.copyOf(items));
  }

  /** {@code operations} (even empty) win over {@code metadata}, which is then not even read. */
  public static UpdateMetadata updateMetadata(String envId, String runId, JsonObject body) {
    JsonArray rawOps = JsonFields.optArray(body, "operations", "operations");
    List<MetadataOperation> ops = rawOps == null ? null : MetadataOperation.parseAll("operations", rawOps);
    List<MetadataOperation> parentOps = optionalOperations(body, "parentOperations");
    List<MetadataOperation> rootOps = optionalOperations(body, "rootOperations");
    Object rawMetadata = body.getValue("metadata");
    JsonObject replacement = rawMetadata == null || ops != null ? null : JsonFields.object(rawMetadata, "metadata");
    return new UpdateMetadata(envId, runId, ops, replacement, parentOps, rootOps, 0);
  }

  public static AddTags addTags(String envId, String runId, JsonObject body) {
    Object raw = body.getValue("tags");
    if (raw == null) {
      throw FreshetException.badRequest("tags is required: a string or an array of strings");
    }
    return new AddTags(envId, runId, RunTags.normalize(raw, "tags"));
  }

  /** {@code {to, output?, outputType?, usageDurationMs?, error?}}; fields a target does not use are not read. */
  public static Transition transition(String envId, String runId, JsonObject json) {
    if (!(json.getValue("to") instanceof String to)) {
      throw FreshetException.badRequest("to is required: queued, executing, completed or failed");
    }
    switch (to) {
      case "queued":
        return new Transition(envId, runId, Transition.Target.QUEUED, null, null, null, null);
      case "executing":
        return new Transition(envId, runId, Transition.Target.EXECUTING, null, null, null, null);
      case "completed": {
        Object output = json.getValue("output");
        String outputType = JsonFields.optString(json, "outputType", "outputType");
        String text = null;
        String type = null;
        if (output instanceof String s) {
          text = s; // the SDK's serialized packet, kept verbatim with its type
          type = outputType != null ? outputType : "application/json";
        } else if (output != null) {
          text = Json.encode(output);
          type = "application/json";
        }
        return new Transition(envId, runId, Transition.Target.COMPLETED, text, type, null, usageDurationMs(json));
      }
      case "failed":
        return new Transition(envId, runId, Transition.Target.FAILED, null, null, taskRunError(json.getValue("error")),
            usageDurationMs(json));
      default:
        throw FreshetException.badRequest("to must be queued, executing, completed or failed, not '" + to + "'");
    }
  }

  /**
   * A transition as an engine sends it on the clustered bus: the JSON of {@link #transition} with
   * {@code envId} and {@code runId} (and an {@code op}, which is ignored). A documented public
   * interface: its shape does not change with the typed commands inside the node.
   */
  public static Transition engineTransition(Object message) {
    JsonObject json = JsonFields.object(message, "transition");
    String envId = JsonFields.requiredString(json, "envId", "envId");
    String runId = JsonFields.requiredString(json, "runId", "runId");
    return transition(envId, runId, json);
  }

  /** A batch item: {@code {task, payload?, options?}} (and its index, read by the caller). */
  private TriggerRequest item(JsonObject item, String where, Instant now) {
    if (!(item.getValue("task") instanceof String taskId)) {
      throw FreshetException.badRequest(where + "task is required and must be a string");
    }
    return TriggerRequest.parse(taskId, item, where, limits, now);
  }

  private static List<String> taskIdentifiers(JsonArray raw) {
    if (raw == null) {
      return List.of();
    }
    Set<String> tasks = new LinkedHashSet<>();
    for (int i = 0; i < raw.size(); i++) {
      if (!(raw.getValue(i) instanceof String task)) {
        throw FreshetException.badRequest("taskIdentifiers[" + i + "] must be a string");
      }
      TriggerRequest.validateTaskId(task, "taskIdentifiers[" + i + "]");
      tasks.add(task);
    }
    return List.copyOf(tasks);
  }

  private static List<MetadataOperation> optionalOperations(JsonObject body, String field) {
    JsonArray raw = JsonFields.optArray(body, field, field);
    return raw == null ? List.of() : MetadataOperation.parseAll(field, raw);
  }

  private static Integer usageDurationMs(JsonObject json) {
    Long ms = JsonFields.optWhole(json, "usageDurationMs", "usageDurationMs");
    if (ms == null) {
      return null;
    }
    if (ms < 0 || ms > MAX_USAGE_DURATION_MS) {
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
}
