package io.freshet.core.write;

import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamRef;
import io.freshet.core.write.WriteReply.BatchCreated;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.BatchTriggered;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.MetadataUpdated;
import io.freshet.core.write.WriteReply.RunRetrieved;
import io.freshet.core.write.WriteReply.StreamProbed;
import io.freshet.core.write.WriteReply.StreamRegistered;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.core.write.WriteReply.Triggered;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * A write the HTTP edge asks the node's publisher to make, on
 * {@link io.freshet.core.bus.NodeAddresses#publisherCommands()} (node-local, request-reply), answered
 * with the reply type {@code R}. The edge builds every command with {@link WriteRequests}, which
 * validates the client's JSON, so the publisher checks only what needs stored state: that a run or
 * batch exists, the tag limit counting stored tags, the metadata size after the operations,
 * idempotency. A failure travels as the message's failure code (an HTTP status) and message.
 *
 * <p>The records are passed as they are ({@link io.freshet.core.bus.BusCodec#local}); the JSON
 * values some of them carry belong to the command once sent, and nobody changes them afterwards.
 */
public sealed interface WriteCommand<R extends WriteReply> {

  /** The publisher's side: one method per command, so a command nobody handles does not compile. */
  interface Handler {
    Future<Triggered> trigger(Trigger command);

    Future<BatchCreated> createBatch(CreateBatch command);

    Future<BatchItemsAdded> batchItems(BatchItems command);

    Future<BatchTriggered> batchTrigger(BatchTrigger command);

    Future<MetadataUpdated> updateMetadata(UpdateMetadata command);

    Future<TagsAdded> addTags(AddTags command);

    Future<Cancelled> cancel(Cancel command);

    Future<RunRetrieved> retrieve(Retrieve command);

    Future<Transitioned> transition(Transition command);

    Future<StreamRegistered> registerStream(RegisterStream command);

    Future<StreamProbed> probeStream(ProbeStream command);
  }

  /** Hands this command to the method of {@code handler} that owns it. */
  Future<R> handledBy(Handler handler);

  /**
   * {@code POST /api/v1/tasks/{taskId}/trigger}; {@code requestKey} is the
   * {@code x-trigger-request-idempotency-key} header (a retried HTTP call), or null.
   */
  record Trigger(String envId, TriggerRequest request, String requestKey) implements WriteCommand<Triggered> {
    @Override
    public Future<Triggered> handledBy(Handler handler) {
      return handler.trigger(this);
    }
  }

  /** {@code POST /api/v3/batches}: a batch of {@code runCount} runs whose items follow; a blank key is null. */
  record CreateBatch(String envId, int runCount, List<String> taskIdentifiers, String idempotencyKey)
      implements WriteCommand<BatchCreated> {
    @Override
    public Future<BatchCreated> handledBy(Handler handler) {
      return handler.createBatch(this);
    }
  }

  /**
   * {@code POST /api/v3/batches/{batchId}/items}: the items in the order sent. Whether an index is
   * in range depends on the stored batch, and an unknown batch is a 404 before any item is looked
   * at; so a malformed item does not fail the request at the edge but travels as {@code rejected}
   * (after the well-formed items before it), and the publisher answers with its problem in turn.
   */
  record BatchItems(String envId, String batchId, List<Item> items, Rejected rejected) implements WriteCommand<BatchItemsAdded> {

    /** A well-formed item: its index in the batch (range not checked yet) and its trigger. */
    public record Item(long index, TriggerRequest request) {}

    /** The first malformed item: its index when that much was valid (null otherwise), and what is wrong. */
    public record Rejected(Long index, FreshetException problem) {}

    @Override
    public Future<BatchItemsAdded> handledBy(Handler handler) {
      return handler.batchItems(this);
    }
  }

  /** {@code POST /api/v2/tasks/batch}: a sealed batch with one run per item, item {@code i} at index {@code i}. */
  record BatchTrigger(String envId, List<TriggerRequest> items) implements WriteCommand<BatchTriggered> {
    @Override
    public Future<BatchTriggered> handledBy(Handler handler) {
      return handler.batchTrigger(this);
    }
  }

  /**
   * {@code PUT /api/v1/runs/{runId}/metadata}. {@code operations} is null when the request sent
   * none, and then {@code replacement} (or null) is the new document; parent and root operations
   * are empty when absent. {@code deadlineMs} (epoch ms, 0 for none) is when the load balancer
   * stops waiting for it: the update statement is not sent after it (the edge's WriteDeadline).
   */
  record UpdateMetadata(String envId, String runId, List<MetadataOperation> operations, JsonObject replacement,
      List<MetadataOperation> parentOperations, List<MetadataOperation> rootOperations, long deadlineMs)
      implements WriteCommand<MetadataUpdated> {
    @Override
    public Future<MetadataUpdated> handledBy(Handler handler) {
      return handler.updateMetadata(this);
    }

    public UpdateMetadata withDeadline(long epochMs) {
      return new UpdateMetadata(envId, runId, operations, replacement, parentOperations, rootOperations, epochMs);
    }
  }

  /** {@code POST /api/v1/runs/{runId}/tags}: tags normalised ({@link RunTags#normalize}). */
  record AddTags(String envId, String runId, List<String> tags) implements WriteCommand<TagsAdded> {
    @Override
    public Future<TagsAdded> handledBy(Handler handler) {
      return handler.addTags(this);
    }
  }

  /** {@code POST /api/v2/runs/{runId}/cancel}. */
  record Cancel(String envId, String runId) implements WriteCommand<Cancelled> {
    @Override
    public Future<Cancelled> handledBy(Handler handler) {
      return handler.cancel(this);
    }
  }

  /** {@code GET /api/v3/runs/{runId}}, read from the primary so a client reads its own writes. */
  record Retrieve(String envId, String runId) implements WriteCommand<RunRetrieved> {
    @Override
    public Future<RunRetrieved> handledBy(Handler handler) {
      return handler.retrieve(this);
    }
  }

  /**
   * A status transition an engine drives ({@code POST /engine/v1/runs/{runId}/transitions}, or JSON
   * on {@link io.freshet.core.bus.NodeAddresses#engineTransitions()}). {@code output} and
   * {@code outputType} are what the run stores (both null for no output) and only come with
   * {@code COMPLETED}; {@code error} (a TaskRunError) only with {@code FAILED}.
   */
  record Transition(String envId, String runId, Target to, String output, String outputType, JsonObject error,
      Integer usageDurationMs) implements WriteCommand<Transitioned> {

    public enum Target {
      QUEUED,
      EXECUTING,
      COMPLETED,
      FAILED;

      /** As the request spells it. */
      public String wireName() {
        return name().toLowerCase(Locale.ROOT);
      }

      /** A final status: the run's streams close with it. */
      public boolean ends() {
        return this == COMPLETED || this == FAILED;
      }
    }

    @Override
    public Future<Transitioned> handledBy(Handler handler) {
      return handler.transition(this);
    }
  }

  /**
   * {@code PUT} on a stream (and before every writer's {@code POST}): makes sure the stream exists
   * and is listed on its run. {@code clientId} (the writer's {@code X-Client-Id}, or null) names whose
   * last chunk index to answer.
   */
  record RegisterStream(StreamRef stream, String clientId) implements WriteCommand<StreamRegistered> {
    @Override
    public Future<StreamRegistered> handledBy(Handler handler) {
      return handler.registerStream(this);
    }
  }

  /** {@code HEAD} on a stream: the writer's resume probe. */
  record ProbeStream(StreamRef stream, String clientId) implements WriteCommand<StreamProbed> {
    @Override
    public Future<StreamProbed> handledBy(Handler handler) {
      return handler.probeStream(this);
    }
  }
}
