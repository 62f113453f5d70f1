package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.freshet.core.write.TriggerRequest;
import io.freshet.core.write.WriteCommand.UpdateMetadata;
import io.freshet.core.write.WriteReply.MetadataUpdated;
import io.freshet.core.write.metadata.JsonValues;
import io.freshet.core.write.metadata.MetadataOperation;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.freshet.publisher.metadata.MetadataOperations;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run metadata writes with optimistic concurrency: read the document, compute the new one, and
 * update only if the stored document is still the one read; otherwise read again. Operations from
 * concurrent writers therefore compose (two increments make +2) without holding a row lock across a
 * round trip. A computation that changes nothing writes and publishes nothing.
 *
 * <p>Writes to one run from this publisher are also queued behind each other: a parent's children
 * all updating it at once would otherwise keep invalidating each other's reads and burn their
 * retries. The optimistic check then only has to settle races with other nodes and the flusher's
 * own writes elsewhere. Call from one context only (the verticle's).
 */
final class MetadataUpdates {

  /** Concurrent writers on one run rarely collide more than once or twice; past this, ask the client to retry. */
  static final int MAX_ATTEMPTS = 8;

  static final String READ = "SELECT metadata, parent_run_id, root_run_id,"
      + " completed_at < (now() AT TIME ZONE 'utc') - interval '1 hour' AS completed_long_ago"
      + " FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  static final String WRITE = "UPDATE task_runs SET metadata = $3, metadata_type = 'application/json',"
      + " updated_at = " + RunWrites.NEXT_UPDATED_AT
      + " FROM " + RunWrites.CLOCK
      + " WHERE env_id = $1 AND friendly_id = $2 AND metadata IS NOT DISTINCT FROM $4"
      + " RETURNING " + RunWrites.RETURNING;

  /** The document after a write; {@code written} is null when nothing changed and nothing was written. */
  record Outcome(JsonObject metadata, WrittenRun written) {}

  private static final Logger log = LoggerFactory.getLogger(MetadataUpdates.class);

  private final Pool primary;
  private final Consumer<ChangeRecord> publish;
  private final MetadataFlusher flusher;
  private final int maxMetadataBytes;
  private final Clock clock;
  /** The last queued write per run ("envId/runId"); removed once it is the last and has finished. */
  private final Map<String, Future<?>> tails = new HashMap<>();

  MetadataUpdates(Pool primary, Consumer<ChangeRecord> publish, MetadataFlusher flusher, int maxMetadataBytes, Clock clock) {
    this.clock = clock;
    this.primary = primary;
    this.publish = publish;
    this.flusher = flusher;
    this.maxMetadataBytes = maxMetadataBytes;
  }

  /**
   * The {@code updateMetadata} command: its operations, or else its replacement document; parent
   * and root operations are buffered for the flusher once this request has succeeded. Replies with
   * the run's document ({@code {}} for a request that asked for no change).
   */
  Future<MetadataUpdated> update(UpdateMetadata command) {
    String envId = command.envId();
    String runId = command.runId();
    List<MetadataOperation> ops = command.operations();
    JsonObject replacement = command.replacement();
    List<MetadataOperation> parentOps = command.parentOperations();
    List<MetadataOperation> rootOps = command.rootOperations();

    UnaryOperator<JsonObject> compute;
    if (ops != null) {
      compute = current -> MetadataOperations.apply(current, ops).metadata();
    } else if (replacement != null) {
      compute = current -> replacement;
    } else {
      compute = null;
    }
    long deadlineMs = command.deadlineMs();
    return serialized(envId, runId, () -> write(envId, runId, compute, 1, deadlineMs)).map(result -> {
      if (!parentOps.isEmpty()) {
        flusher.enqueue(envId, result.parentRunId != null ? result.parentRunId : runId, parentOps);
      }
      if (!rootOps.isEmpty()) {
        flusher.enqueue(envId, result.rootRunId != null ? result.rootRunId : runId, rootOps);
      }
      return new MetadataUpdated(compute == null ? new JsonObject() : result.outcome.metadata());
    });
  }

  /** Applies buffered operations to one run (the flusher's write); publishes when the document changed. */
  Future<Outcome> applyOperations(String envId, String runId, List<MetadataOperation> ops) {
    return serialized(envId, runId, () -> write(envId, runId, current -> MetadataOperations.apply(current, ops).metadata(), 1, 0))
        .map(r -> r.outcome);
  }

  private <T> Future<T> serialized(String envId, String runId, Supplier<Future<T>> task) {
    String key = envId + "/" + runId;
    Future<?> tail = tails.get(key);
    Future<T> result = tail == null ? start(task) : tail.transform(done -> start(task));
    tails.put(key, result);
    result.onComplete(done -> tails.remove(key, result));
    return result;
  }

  private static <T> Future<T> start(Supplier<Future<T>> task) {
    try {
      return task.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private record Attempt(Outcome outcome, String parentRunId, String rootRunId) {}

  /** One read-compute-write round; {@code compute} null means read only (for the run's relations). */
  private Future<Attempt> write(String envId, String runId, UnaryOperator<JsonObject> compute, int attempt, long deadlineMs) {
    return primary.preparedQuery(READ).execute(Tuple.of(envId, runId)).compose(rows -> {
      if (rows.size() == 0) {
        throw FreshetException.notFound("Run not found");
      }
      Row row = rows.iterator().next();
      if (Boolean.TRUE.equals(row.getBoolean("completed_long_ago"))) {
        throw FreshetException.unprocessable("Cannot update metadata for a completed run");
      }
      String storedText = row.getString("metadata");
      String parent = row.getString("parent_run_id");
      String root = row.getString("root_run_id");
      JsonObject current = parse(storedText);
      if (compute == null) {
        return Future.succeededFuture(new Attempt(new Outcome(current, null), parent, root));
      }
      JsonObject next = compute.apply(current);
      if (JsonValues.deepEquals(current, next)) {
        return Future.succeededFuture(new Attempt(new Outcome(current, null), parent, root));
      }
      String nextText = next.encode();
      TriggerRequest.checkMetadataSize(nextText, maxMetadataBytes);
      // Past the load balancer's deadline (the node froze after the edge let the write through,
      // perhaps while the read above was out): the balancer has answered 503, so nothing is written.
      if (deadlineMs > 0 && clock.nowMs() > deadlineMs) {
        throw new FreshetException(503, "this write is past its deadline (" + (clock.nowMs() - deadlineMs)
            + " ms; http.writeDeadlineMs): nothing was written; retry");
      }
      return primary.preparedQuery(WRITE).execute(Tuple.of(envId, runId, nextText, storedText)).compose(updated -> {
        if (updated.size() == 0) {
          // Another writer changed the document after our read: start over from its version.
          log.debug("metadata of run {} changed under attempt {}; reading it again", runId, attempt);
          if (attempt >= MAX_ATTEMPTS) {
            return Future.failedFuture(new FreshetException(503, "Metadata is being updated concurrently; retry"));
          }
          return write(envId, runId, compute, attempt + 1, deadlineMs);
        }
        WrittenRun written = WrittenRun.from(updated.iterator().next());
        publish.accept(written.toChangeRecord(envId));
        return Future.succeededFuture(new Attempt(new Outcome(next, written), parent, root));
      });
    });
  }

  /** The stored document; a missing or unreadable one counts as empty, as trigger.dev treats it. */
  static JsonObject parse(String text) {
    if (text == null || text.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      return new JsonObject();
    }
  }
}
