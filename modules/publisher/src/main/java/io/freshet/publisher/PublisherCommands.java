package io.freshet.publisher;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.metadata.MetadataOperation;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads one command ({@code {op, envId, ...}}) and hands it to the class that owns that write.
 * Every failure comes back as a failed future: a {@link FreshetException} for the client's
 * mistakes, anything else for ours.
 */
final class PublisherCommands {

  private final RunTriggers triggers;
  private final BatchWrites batches;
  private final MetadataUpdates metadata;
  private final MetadataFlusher flusher;
  private final TagWrites tags;
  private final StatusTransitions transitions;
  private final RunRetrieval retrieval;
  private final TriggerRequest.Limits limits;
  private final Clock clock;

  private final StreamWrites streams;

  PublisherCommands(Pool primary, Consumer<ChangeRecord> publish, StreamWrites streams, FreshetConfig config, Clock clock) {
    this.streams = streams;
    this.clock = clock;
    this.limits = new TriggerRequest.Limits(
        config.getInt(FreshetConfig.PUBLISHER_MAX_TAGS), config.getInt(FreshetConfig.PUBLISHER_MAX_METADATA_BYTES));
    this.triggers = new RunTriggers(primary, publish);
    this.batches = new BatchWrites(primary, triggers, limits, clock);
    this.flusher = new MetadataFlusher(this::flushRun);
    this.metadata = new MetadataUpdates(primary, publish, flusher, limits.maxMetadataBytes());
    this.tags = new TagWrites(primary, publish, limits.maxTags());
    this.transitions = new StatusTransitions(primary, publish);
    this.retrieval = new RunRetrieval(primary);
  }

  /** The flusher's write: one optimistic update per run, which publishes when it changed the run. */
  private Future<Boolean> flushRun(String envId, String runId, List<MetadataOperation> ops) {
    return metadata.applyOperations(envId, runId, ops).map(outcome -> outcome.written() != null);
  }

  MetadataFlusher flusher() {
    return flusher;
  }

  /** Runs {@code command}; input errors surface as failed futures, never as throws. */
  Future<JsonObject> handle(Object body) {
    try {
      JsonObject command = JsonFields.object(body, "command");
      Object op = command.getValue("op");
      if (!(op instanceof String name)) {
        throw FreshetException.badRequest("op is required");
      }
      return dispatch(name, command);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** An engine transition: the command body without (or with) {@code op}. */
  Future<JsonObject> handleTransition(Object body) {
    try {
      return dispatch("transition", JsonFields.object(body, "transition"));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<JsonObject> dispatch(String op, JsonObject c) {
    String envId = JsonFields.requiredString(c, "envId", "envId");
    return switch (op) {
      case "trigger" -> {
        String taskId = JsonFields.optString(c, "taskId", "taskId");
        TriggerRequest request = TriggerRequest.parse(taskId, JsonFields.optObject(c, "body", "body"), "", limits, clock.instant());
        String requestKey = JsonFields.limited(JsonFields.optString(c, "requestKey", "requestKey"), 256, "requestKey");
        yield triggers.trigger(envId, request, requestKey, null, null)
            .map(t -> new JsonObject().put("id", t.runId()).put("isCached", t.cached()));
      }
      case "createBatch" -> batches.create(envId, JsonFields.optObject(c, "body", "body"));
      case "batchItems" -> batches.items(envId, JsonFields.requiredString(c, "batchId", "batchId"),
          TriggerRequest.array(c.getValue("items"), "items"));
      case "batchTrigger" -> batches.trigger(envId, JsonFields.optObject(c, "body", "body"));
      case "updateMetadata" -> metadata.update(envId, runId(c), JsonFields.optObject(c, "body", "body"));
      case "addTags" -> tags.add(envId, runId(c), c.getValue("tags"));
      case "cancel" -> ended(envId, runId(c), transitions.cancel(envId, runId(c)));
      case "retrieve" -> retrieval.retrieve(envId, runId(c));
      case "transition" -> {
        Future<JsonObject> moved = transitions.transition(envId, runId(c), c);
        yield "completed".equals(c.getValue("to")) || "failed".equals(c.getValue("to")) ? ended(envId, runId(c), moved) : moved;
      }
      case "registerStream" -> streams.register(envId, runId(c), JsonFields.requiredString(c, "key", "key"),
          JsonFields.optString(c, "clientId", "clientId")).map(r -> new JsonObject().put("closed", r.closed())
              .put("lastSeq", r.lastSeq()).put("lastChunkIndex", r.lastChunkIndex()));
      case "probeStream" -> streams.probe(envId, runId(c), JsonFields.requiredString(c, "key", "key"),
          JsonFields.optString(c, "clientId", "clientId"));
      default -> throw FreshetException.badRequest("unknown op '" + op + "'");
    };
  }

  /** After a run reached a final status: its streams close, and their readers finish. */
  private Future<JsonObject> ended(String envId, String runId, Future<JsonObject> transition) {
    return transition.compose(reply -> streams.closeRun(envId, runId).map(reply));
  }

  private static String runId(JsonObject c) {
    return JsonFields.requiredString(c, "runId", "runId");
  }
}
