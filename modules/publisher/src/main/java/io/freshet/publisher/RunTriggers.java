package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.write.TriggerRequest;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.freshet.store.Ids;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.function.Consumer;

/**
 * Creates runs: one statement bumps the task's run number and inserts the run, and returns the
 * committed version for the change record. Retried requests and idempotency keys resolve to the
 * run that already exists, writing and publishing nothing.
 */
final class RunTriggers {

  /** What a trigger did. {@code written} is null unless a run was inserted. */
  record Triggered(String runId, boolean cached, boolean duplicateIndex, WrittenRun written) {

    static Triggered created(WrittenRun written) {
      return new Triggered(written.friendlyId(), false, false, written);
    }

    static Triggered existing(String runId, boolean cached) {
      return new Triggered(runId, cached, false, null);
    }

    static Triggered duplicateBatchIndex() {
      return new Triggered(null, false, true, null);
    }
  }

  /**
   * The run number comes from the same statement as the insert, so a failed insert (a duplicate
   * idempotency key or batch index) rolls the counter back with it and numbers stay gapless.
   * created_at, updated_at and queued_at read the clock once.
   */
  static final String INSERT = "WITH t AS (SELECT " + RunWrites.NOW + " AS now),"
      + " n AS (INSERT INTO task_counters (env_id, task_identifier, last_number) VALUES ($1, $2, 1)"
      + "   ON CONFLICT (env_id, task_identifier) DO UPDATE SET last_number = task_counters.last_number + 1"
      + "   RETURNING last_number)"
      + " INSERT INTO task_runs (id, friendly_id, env_id, task_identifier, status, created_at, updated_at, queued_at,"
      + "   delay_until, idempotency_key, number, is_test, ttl, payload, payload_type, metadata, metadata_type,"
      + "   run_tags, batch_id, batch_index, parent_run_id, root_run_id, request_key, idempotency_key_expires_at)"
      + " SELECT $3, $4, $1, $2, CASE WHEN $5::timestamp(3) IS NULL THEN 'PENDING' ELSE 'DELAYED' END,"
      + "   t.now, t.now, CASE WHEN $5::timestamp(3) IS NULL THEN t.now END,"
      + "   $5::timestamp(3), $6, n.last_number, $7, $8, $9, $10, $11::text,"
      + "   CASE WHEN $11::text IS NULL THEN NULL ELSE 'application/json' END,"
      + "   $12, $13, $14, $15, $16, $17,"
      + "   CASE WHEN $6::text IS NULL THEN NULL ELSE t.now + $18::bigint * interval '1 millisecond' END"
      + " FROM t, n"
      + " RETURNING " + RunWrites.RETURNING;

  static final String BY_REQUEST_KEY = "SELECT friendly_id FROM task_runs WHERE env_id = $1 AND request_key = $2";
  static final String BY_IDEMPOTENCY_KEY = "SELECT friendly_id, idempotency_key_expires_at <= " + RunWrites.NOW + " AS expired"
      + " FROM task_runs WHERE env_id = $1 AND task_identifier = $2 AND idempotency_key = $3";
  /** An expired key leaves its run (which keeps everything else) so that a new run can take it. */
  static final String RELEASE_IDEMPOTENCY_KEY = "UPDATE task_runs SET idempotency_key = NULL, idempotency_key_expires_at = NULL"
      + " WHERE env_id = $1 AND friendly_id = $2 AND idempotency_key_expires_at <= " + RunWrites.NOW;
  static final String PARENT = "SELECT friendly_id, root_run_id FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  private static final String UNIQUE_VIOLATION = "23505";

  private final Pool primary;
  private final Consumer<ChangeRecord> publish;

  RunTriggers(Pool primary, Consumer<ChangeRecord> publish) {
    this.primary = primary;
    this.publish = publish;
  }

  /**
   * Triggers one run.
   *
   * @param requestKey the {@code x-trigger-request-idempotency-key} of the HTTP call, or null
   * @param batchId the batch the run belongs to, or null; then {@code batchIndex} is its index
   */
  Future<Triggered> trigger(String envId, TriggerRequest request, String requestKey, String batchId, Integer batchIndex) {
    return trigger(primary, publish, envId, request, requestKey, batchId, batchIndex);
  }

  /**
   * The same, on {@code client} (a transaction: a batch's runs are written with the batch, or not
   * at all), handing each change record to {@code published} (the caller publishes them once the
   * transaction has committed).
   */
  Future<Triggered> trigger(SqlClient client, Consumer<ChangeRecord> published, String envId, TriggerRequest request, String requestKey,
      String batchId, Integer batchIndex) {
    return byRequestKey(client, envId, requestKey)
        .compose(replayed -> replayed != null ? Future.succeededFuture(replayed)
            : byIdempotencyKey(client, envId, request)
                .compose(cached -> cached != null ? Future.succeededFuture(cached)
                    : insert(client, published, envId, request, requestKey, batchId, batchIndex)));
  }

  private Future<Triggered> insert(SqlClient client, Consumer<ChangeRecord> published, String envId, TriggerRequest request,
      String requestKey, String batchId, Integer batchIndex) {
    return rootOf(client, envId, request.parentRunId()).compose(root -> {
      Tuple params = Tuple.tuple()
          .addString(envId)
          .addString(request.taskId())
          .addString(Ids.internalId())
          .addString(Ids.runFriendlyId())
          .addLocalDateTime(request.delayUntil())
          .addString(request.idempotencyKey())
          .addBoolean(request.isTest())
          .addString(request.ttl())
          .addString(request.payload())
          .addString(request.payloadType())
          .addString(request.metadata())
          .addArrayOfString(request.tags().toArray(String[]::new))
          .addString(batchId)
          .addInteger(batchIndex)
          .addString(request.parentRunId())
          .addString(root)
          .addString(requestKey)
          .addLong(request.idempotencyKeyTtl() == null ? null : request.idempotencyKeyTtl().toMillis());
      return client.preparedQuery(INSERT).execute(params)
          .map(rows -> {
            WrittenRun written = WrittenRun.from(rows.iterator().next());
            published.accept(written.toChangeRecord(envId));
            return Triggered.created(written);
          })
          .recover(failure -> client == primary ? raced(failure, envId, request, requestKey) : Future.failedFuture(failure));
    });
  }

  /** Publishes a change record written in a caller's transaction, once it committed. */
  void publish(ChangeRecord record) {
    publish.accept(record);
  }

  /** A concurrent trigger with the same key committed first: answer with its run. */
  private Future<Triggered> raced(Throwable failure, String envId, TriggerRequest request, String requestKey) {
    if (!(failure instanceof PgException pg) || !UNIQUE_VIOLATION.equals(pg.getSqlState())) {
      return Future.failedFuture(failure);
    }
    String constraint = pg.getConstraint() == null ? "" : pg.getConstraint();
    return switch (constraint) {
      case "task_runs_request_key" -> byRequestKey(primary, envId, requestKey)
          .compose(t -> t != null ? Future.succeededFuture(t) : Future.failedFuture(failure));
      case "task_runs_idempotency" -> byIdempotencyKey(primary, envId, request)
          .compose(t -> t != null ? Future.succeededFuture(t) : Future.failedFuture(failure));
      case "task_runs_batch" -> Future.succeededFuture(Triggered.duplicateBatchIndex());
      default -> Future.failedFuture(failure);
    };
  }

  private Future<Triggered> byRequestKey(SqlClient client, String envId, String requestKey) {
    if (requestKey == null) {
      return Future.succeededFuture(null);
    }
    return client.preparedQuery(BY_REQUEST_KEY).execute(Tuple.of(envId, requestKey))
        .map(rows -> first(rows) == null ? null : Triggered.existing(first(rows).getString(0), false));
  }

  private Future<Triggered> byIdempotencyKey(SqlClient client, String envId, TriggerRequest request) {
    if (request.idempotencyKey() == null) {
      return Future.succeededFuture(null);
    }
    return client.preparedQuery(BY_IDEMPOTENCY_KEY).execute(Tuple.of(envId, request.taskId(), request.idempotencyKey()))
        .compose(rows -> {
          Row row = first(rows);
          if (row == null) {
            return Future.succeededFuture(null);
          }
          if (!Boolean.TRUE.equals(row.getBoolean("expired"))) {
            return Future.succeededFuture(Triggered.existing(row.getString(0), true));
          }
          // Expired: the key is released, and this trigger creates a new run with it.
          return client.preparedQuery(RELEASE_IDEMPOTENCY_KEY).execute(Tuple.of(envId, row.getString(0))).map((Triggered) null);
        });
  }

  /** The root of a child run's tree: its parent's root, or the parent itself. */
  private Future<String> rootOf(SqlClient client, String envId, String parentRunId) {
    if (parentRunId == null) {
      return Future.succeededFuture(null);
    }
    return client.preparedQuery(PARENT).execute(Tuple.of(envId, parentRunId)).map(rows -> {
      Row parent = first(rows);
      if (parent == null) {
        throw FreshetException.badRequest("options.parentRunId: no run " + parentRunId + " in this environment");
      }
      String root = parent.getString("root_run_id");
      return root != null ? root : parent.getString("friendly_id");
    });
  }

  private static Row first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : rows.iterator().next();
  }
}
