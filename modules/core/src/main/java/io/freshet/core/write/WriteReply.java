package io.freshet.core.write;

import io.vertx.core.json.JsonObject;

/**
 * What the publisher answers to a {@link WriteCommand}, one record per command. A reply that is an
 * HTTP response body renders it with {@code toJson()}: the field names and values trigger.dev's
 * SDK and the Electric client read, which is why they are spelled here once.
 */
public sealed interface WriteReply {

  /** A run was triggered; {@code cached}: an idempotency key found the run that already had it. */
  record Triggered(String runId, boolean cached) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("id", runId).put("isCached", cached);
    }
  }

  /** A batch exists; {@code cached}: its idempotency key found it. */
  record BatchCreated(String id, int runCount, boolean cached, String idempotencyKey) implements WriteReply {
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("id", id).put("runCount", runCount).put("isCached", cached);
      if (idempotencyKey != null) {
        json.put("idempotencyKey", idempotencyKey);
      }
      return json;
    }
  }

  /**
   * Items were streamed into a batch: how many made a run and how many were already covered; until
   * the batch is sealed, how many of its indexes have a run ({@code enqueued}) out of {@code expected}.
   */
  record BatchItemsAdded(String id, int accepted, int deduplicated, boolean sealed, int enqueued, int expected)
      implements WriteReply {
    public JsonObject toJson() {
      JsonObject json = new JsonObject()
          .put("id", id)
          .put("itemsAccepted", accepted)
          .put("itemsDeduplicated", deduplicated)
          .put("sealed", sealed);
      if (!sealed) {
        json.put("enqueuedCount", enqueued).put("expectedCount", expected);
      }
      return json;
    }
  }

  /** A batch and its runs were written in one go. */
  record BatchTriggered(String id, int runCount) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("runCount", runCount);
    }
  }

  /** The run's own document after the update (not its parent's or root's). */
  record MetadataUpdated(JsonObject metadata) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("metadata", metadata);
    }
  }

  /** How many of the requested tags were new to the run (0: nothing was written). */
  record TagsAdded(int added) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("message", added == 0 ? "No new tags to add" : "Successfully set " + added + " new tags.");
    }
  }

  /** The run is cancelled, or had already finished. */
  record Cancelled(String runId) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("id", runId);
    }
  }

  /**
   * A run as {@code runs.retrieve} reads it, without its offloaded packets: {@code payloadStorePath}
   * and {@code outputStorePath} are their storage paths (or null), which the web edge answers as
   * presigned download URLs after the rest of {@code run}.
   */
  record RunRetrieved(JsonObject run, String payloadStorePath, String outputStorePath) implements WriteReply {}

  /**
   * The run's raw status after a transition, and its new version as ISO-8601 UTC with milliseconds;
   * also the reply an engine gets on the clustered bus, as JSON.
   */
  record Transitioned(String runId, String status, String updatedAt) implements WriteReply {
    public JsonObject toJson() {
      return new JsonObject().put("id", runId).put("status", status).put("updatedAt", updatedAt);
    }
  }

  /**
   * A stream is registered: whether it is already closed, its last seq (-1: empty), and the asking
   * writer's last stored chunk index (-1: none, or no client id).
   */
  record StreamRegistered(boolean closed, long lastSeq, long lastChunkIndex) implements WriteReply {}

  /** The writer's last stored chunk index (-1: none). */
  record StreamProbed(long lastChunkIndex) implements WriteReply {}
}
