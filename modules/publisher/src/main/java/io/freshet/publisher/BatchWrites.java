package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.write.TriggerRequest;
import io.freshet.core.write.WriteCommand.BatchItems;
import io.freshet.core.write.WriteCommand.BatchTrigger;
import io.freshet.core.write.WriteCommand.CreateBatch;
import io.freshet.core.write.WriteReply.BatchCreated;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.BatchTriggered;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.Ids;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
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

  BatchWrites(Pool primary, RunTriggers runs) {
    this.primary = primary;
    this.runs = runs;
  }

  /** Creates the batch, or answers with the one its idempotency key already names. */
  Future<BatchCreated> create(CreateBatch command) {
    String envId = command.envId();
    String idempotencyKey = command.idempotencyKey();
    return cached(envId, idempotencyKey)
        .compose(existing -> existing != null ? Future.succeededFuture(existing)
            : insert(envId, command.runCount(), command.taskIdentifiers(), idempotencyKey)
                .map(id -> new BatchCreated(id, command.runCount(), false, idempotencyKey))
                .recover(failure -> failure instanceof PgException pg && "23505".equals(pg.getSqlState())
                    ? cached(envId, idempotencyKey).compose(again -> again != null
                        ? Future.succeededFuture(again) : Future.failedFuture(failure))
                    : Future.failedFuture(failure)));
  }

  /**
   * Adds the items whose index has no run yet. Every index is checked against the stored batch (and
   * a malformed item refused in its turn) before anything is written.
   */
  Future<BatchItemsAdded> items(BatchItems command) {
    return batch(command.envId(), command.batchId()).compose(batch -> {
      List<Item> items = new ArrayList<>(command.items().size());
      for (BatchItems.Item item : command.items()) {
        items.add(new Item(inRange(batch, item.index(), items.size()), item.request()));
      }
      BatchItems.Rejected rejected = command.rejected();
      if (rejected != null) {
        if (rejected.index() != null) {
          inRange(batch, rejected.index(), items.size());
        }
        throw rejected.problem();
      }
      if (batch.sealed()) {
        // The SDK resends the whole stream until it sees the batch sealed: every item is a duplicate now.
        return Future.succeededFuture(new BatchItemsAdded(batch.id(), 0, items.size(), true, batch.runCount(), batch.runCount()));
      }
      return insertItems(command.envId(), batch, items);
    });
  }

  /** The index of the item at {@code position} as an int, or 400 when the batch has no such index. */
  private static int inRange(Batch batch, long index, int position) {
    if (index >= batch.runCount()) {
      throw FreshetException.badRequest("items[" + position + "].index " + index + " is out of range: the batch has "
          + batch.runCount() + " runs");
    }
    return (int) index;
  }

  /** Creates the batch and its runs in one call (batchTriggerV3). */
  Future<BatchTriggered> trigger(BatchTrigger command) {
    String envId = command.envId();
    List<Item> items = new ArrayList<>(command.items().size());
    Set<String> tasks = new LinkedHashSet<>();
    for (TriggerRequest request : command.items()) {
      tasks.add(request.taskId());
      items.add(new Item(items.size(), request));
    }
    return writeInOneTransaction(envId, items, List.copyOf(tasks))
        // A unique key raced by another writer aborts the transaction; run it again: its lookups
        // now find the runs that won, and the batch is written whole or not at all.
        .recover(failure -> failure instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? writeInOneTransaction(envId, items, List.copyOf(tasks)) : Future.failedFuture(failure))
        .map(id -> new BatchTriggered(id, items.size()));
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

  /**
   * Inserts the items whose index has no run yet, one after another, then seals the batch when
   * every index is covered. An item that resolved to an existing run through its idempotency key
   * covers its index too: the SDK resends the whole stream, so such indexes are seen on every call.
   */
  private Future<BatchItemsAdded> insertItems(String envId, Batch batch, List<Item> items) {
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
        return sealed.map(x -> new BatchItemsAdded(batch.id(), accepted[0], deduplicated[0], complete, covered.size(), batch.runCount()));
      });
    });
  }

  private Future<String> insert(String envId, int runCount, List<String> tasks, String idempotencyKey) {
    String id = Ids.batchId();
    return primary.preparedQuery(INSERT)
        .execute(Tuple.of(id, envId, runCount, tasks.toArray(String[]::new), idempotencyKey))
        .map(rows -> id);
  }

  private Future<BatchCreated> cached(String envId, String idempotencyKey) {
    if (idempotencyKey == null) {
      return Future.succeededFuture(null);
    }
    return primary.preparedQuery(BY_IDEMPOTENCY_KEY).execute(Tuple.of(envId, idempotencyKey)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new BatchCreated(row.getString("id"), row.getInteger("run_count"), true, idempotencyKey);
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
}
