package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunTriggers.Triggered;
import io.freshet.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Two-phase batches as SDK 4.8.3 drives them: create the batch, then stream its items, which are
 * de-duplicated by index so the SDK can resend the whole stream until the batch is sealed.
 */
final class BatchWrites {

  static final int MAX_RUN_COUNT = 1000;
  static final int MAX_BATCH_TRIGGER_ITEMS = 500;

  static final String INSERT = "INSERT INTO batches (id, env_id, run_count, task_identifiers, idempotency_key, created_at, updated_at)"
      + " SELECT $1, $2, $3, $4, $5, t.now, t.now FROM " + RunWrites.CLOCK;
  static final String BY_IDEMPOTENCY_KEY = "SELECT id, run_count FROM batches WHERE env_id = $1 AND idempotency_key = $2";
  static final String BY_ID = "SELECT id, run_count, sealed FROM batches WHERE env_id = $1 AND id = $2";
  static final String STORED_INDEXES = "SELECT batch_index FROM task_runs WHERE batch_id = $1";
  static final String SEAL = "UPDATE batches SET sealed = true, updated_at = " + RunWrites.NOW + " WHERE id = $1";

  private record Batch(String id, int runCount, boolean sealed) {}

  private record Item(int index, TriggerRequest request) {}

  private final Pool primary;
  private final RunTriggers runs;
  private final TriggerRequest.Limits limits;
  private final Clock clock;

  BatchWrites(Pool primary, RunTriggers runs, TriggerRequest.Limits limits, Clock clock) {
    this.primary = primary;
    this.runs = runs;
    this.limits = limits;
    this.clock = clock;
  }

  /** {@code {id, runCount, isCached, idempotencyKey?}}. */
  Future<JsonObject> create(String envId, JsonObject body) {
    Long runCount = JsonFields.optWhole(body, "runCount", "runCount");
    if (runCount == null || runCount < 1 || runCount > MAX_RUN_COUNT) {
      throw FreshetException.badRequest("runCount must be an integer from 1 to " + MAX_RUN_COUNT);
    }
    List<String> tasks = taskIdentifiers(JsonFields.optArray(body, "taskIdentifiers", "taskIdentifiers"));
    String key = JsonFields.limited(JsonFields.optString(body, "idempotencyKey", "idempotencyKey"),
        TriggerRequest.MAX_IDEMPOTENCY_KEY_CHARS, "idempotencyKey");
    String idempotencyKey = key == null || key.isEmpty() ? null : key;
    return cached(envId, idempotencyKey)
        .compose(existing -> existing != null ? Future.succeededFuture(existing)
            : insert(envId, runCount.intValue(), tasks, idempotencyKey)
                .map(id -> reply(id, runCount.intValue(), false, idempotencyKey))
                .recover(failure -> failure instanceof PgException pg && "23505".equals(pg.getSqlState())
                    ? cached(envId, idempotencyKey).compose(again -> again != null
                        ? Future.succeededFuture(again) : Future.failedFuture(failure))
                    : Future.failedFuture(failure)));
  }

  /** {@code {id, itemsAccepted, itemsDeduplicated, sealed}} plus the counts the SDK reads when not sealed. */
  Future<JsonObject> items(String envId, String batchId, JsonArray rawItems) {
    return batch(envId, batchId).compose(batch -> {
      List<Item> items = new ArrayList<>(rawItems.size());
      for (int i = 0; i < rawItems.size(); i++) {
        String where = "items[" + i + "].";
        JsonObject item = JsonFields.object(rawItems.getValue(i), "items[" + i + "]");
        Long index = JsonFields.optWhole(item, "index", where + "index");
        if (index == null || index < 0) {
          throw FreshetException.badRequest(where + "index is required and must be an integer >= 0");
        }
        if (index >= batch.runCount()) {
          throw FreshetException.badRequest(where + "index " + index + " is out of range: the batch has "
              + batch.runCount() + " runs");
        }
        items.add(new Item(index.intValue(), parseItem(item, where)));
      }
      if (batch.sealed()) {
        // The SDK resends the whole stream until it sees the batch sealed: every item is a duplicate now.
        return Future.succeededFuture(itemsReply(batch, 0, items.size(), true, batch.runCount()));
      }
      return insertItems(envId, batch, items);
    });
  }

  /** {@code {id, runCount}}: creates the batch and its runs in one call (batchTriggerV3). */
  Future<JsonObject> trigger(String envId, JsonObject body) {
    JsonArray rawItems = JsonFields.optArray(body, "items", "items");
    if (rawItems == null || rawItems.isEmpty() || rawItems.size() > MAX_BATCH_TRIGGER_ITEMS) {
      throw FreshetException.badRequest("items must be an array of 1 to " + MAX_BATCH_TRIGGER_ITEMS + " items");
    }
    List<Item> items = new ArrayList<>(rawItems.size());
    Set<String> tasks = new LinkedHashSet<>();
    for (int i = 0; i < rawItems.size(); i++) {
      JsonObject item = JsonFields.object(rawItems.getValue(i), "items[" + i + "]");
      TriggerRequest request = parseItem(item, "items[" + i + "].");
      tasks.add(request.taskId());
      items.add(new Item(i, request));
    }
    return writeInOneTransaction(envId, items, List.copyOf(tasks))
        // A unique key raced by another writer aborts the transaction; run it again: its lookups
        // now find the runs that won, and the batch is written whole or not at all.
        .recover(failure -> failure instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? writeInOneTransaction(envId, items, List.copyOf(tasks)) : Future.failedFuture(failure))
        .map(id -> new JsonObject().put("id", id).put("runCount", items.size()));
  }

  /** The batch and every run of it in one transaction; their change records are published after it commits. */
  private Future<String> writeInOneTransaction(String envId, List<Item> items, List<String> tasks) {
    List<ChangeRecord> records = new ArrayList<>();
    String id = Ids.batchId();
    return primary.withTransaction(tx -> {
      Future<Void> chain = tx.preparedQuery(INSERT)
          .execute(Tuple.of(id, envId, items.size(), tasks.toArray(String[]::new), null)).mapEmpty();
      for (Item item : items) {
        chain = chain.compose(v -> runs.trigger(tx, records::add, envId, item.request(), null, id, item.index()).mapEmpty());
      }
      return chain.compose(v -> tx.preparedQuery(SEAL).execute(Tuple.of(id))).map(v -> id);
    }).onSuccess(v -> records.forEach(runs::publish));
  }

  private TriggerRequest parseItem(JsonObject item, String where) {
    Object task = item.getValue("task");
    if (!(task instanceof String taskId)) {
      throw FreshetException.badRequest(where + "task is required and must be a string");
    }
    return TriggerRequest.parse(taskId, item, where, limits, clock.instant());
  }

  /**
   * Inserts the items whose index has no run yet, one after another, then seals the batch when
   * every index is covered. An item that resolved to an existing run through its idempotency key
   * covers its index too: the SDK resends the whole stream, so such indexes are seen on every call.
   */
  private Future<JsonObject> insertItems(String envId, Batch batch, List<Item> items) {
    return storedIndexes(batch.id()).compose(stored -> {
      Set<Integer> covered = new HashSet<>(stored);
      int[] accepted = {0};
      int[] deduplicated = {0};
      Future<Void> chain = Future.succeededFuture();
      for (Item item : items) {
        chain = chain.compose(v -> {
          if (covered.contains(item.index())) {
            deduplicated[0]++;
            return Future.succeededFuture();
          }
          return runs.trigger(envId, item.request(), null, batch.id(), item.index()).map(triggered -> {
            if (triggered.duplicateIndex()) {
              deduplicated[0]++;
            } else {
              accepted[0]++;
            }
            covered.add(item.index());
            return null;
          });
        });
      }
      return chain.compose(v -> {
        boolean complete = covered.size() >= batch.runCount();
        Future<Void> sealed = complete
            ? primary.preparedQuery(SEAL).execute(Tuple.of(batch.id())).mapEmpty()
            : Future.succeededFuture();
        return sealed.map(x -> itemsReply(batch, accepted[0], deduplicated[0], complete, covered.size()));
      });
    });
  }

  private static JsonObject itemsReply(Batch batch, int accepted, int deduplicated, boolean sealed, int enqueued) {
    JsonObject reply = new JsonObject()
        .put("id", batch.id())
        .put("itemsAccepted", accepted)
        .put("itemsDeduplicated", deduplicated)
        .put("sealed", sealed);
    if (!sealed) {
      reply.put("enqueuedCount", enqueued).put("expectedCount", batch.runCount());
    }
    return reply;
  }

  private Future<String> insert(String envId, int runCount, List<String> tasks, String idempotencyKey) {
    String id = Ids.batchId();
    return primary.preparedQuery(INSERT)
        .execute(Tuple.of(id, envId, runCount, tasks.toArray(String[]::new), idempotencyKey))
        .map(rows -> id);
  }

  private Future<JsonObject> cached(String envId, String idempotencyKey) {
    if (idempotencyKey == null) {
      return Future.succeededFuture(null);
    }
    return primary.preparedQuery(BY_IDEMPOTENCY_KEY).execute(Tuple.of(envId, idempotencyKey)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return reply(row.getString("id"), row.getInteger("run_count"), true, idempotencyKey);
    });
  }

  private Future<Batch> batch(String envId, String batchId) {
    return primary.preparedQuery(BY_ID).execute(Tuple.of(envId, batchId)).map(rows -> {
      if (rows.size() == 0) {
        throw FreshetException.notFound("Batch not found");
      }
      Row row = rows.iterator().next();
      return new Batch(row.getString("id"), row.getInteger("run_count"), row.getBoolean("sealed"));
    });
  }

  private Future<Set<Integer>> storedIndexes(String batchId) {
    return primary.preparedQuery(STORED_INDEXES).execute(Tuple.of(batchId)).map(rows -> {
      Set<Integer> indexes = new HashSet<>();
      rows.forEach(row -> indexes.add(row.getInteger(0)));
      return indexes;
    });
  }

  private static JsonObject reply(String id, int runCount, boolean cached, String idempotencyKey) {
    JsonObject reply = new JsonObject().put("id", id).put("runCount", runCount).put("isCached", cached);
    if (idempotencyKey != null) {
      reply.put("idempotencyKey", idempotencyKey);
    }
    return reply;
  }

  private static List<String> taskIdentifiers(JsonArray raw) {
    if (raw == null) {
      return List.of();
    }
    Set<String> tasks = new LinkedHashSet<>();
    for (int i = 0; i < raw.size(); i++) {
      Object task = raw.getValue(i);
      if (!(task instanceof String s)) {
        throw FreshetException.badRequest("taskIdentifiers[" + i + "] must be a string");
      }
      TriggerRequest.validateTaskId(s, "taskIdentifiers[" + i + "]");
      tasks.add(s);
    }
    return List.copyOf(tasks);
  }
}
