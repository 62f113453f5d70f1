package io.freshet.publisher;

import io.freshet.core.bus.NodeAddresses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.freshet.core.FreshetConfig;
import io.freshet.producer.Addresses;
import io.freshet.producer.ChangeRecord;
import io.freshet.core.bus.NodeCodecs;
import io.freshet.store.Environments;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A publisher deployed on a plain Vert.x against a fresh database on the real primary, with every
 * change record of its environment captured in arrival order.
 */
final class PublisherFixture implements AutoCloseable {

  final Vertx vertx;
  final TestDatabase db;
  final String envId;
  private final LinkedBlockingQueue<ChangeRecord> records = new LinkedBlockingQueue<>();
  private final MessageConsumer<ChangeRecord> capture;

  PublisherFixture(JsonObject config) {
    vertx = Vertx.vertx();
    NodeCodecs.register(vertx);
    db = PgRig.createDatabase(vertx);
    envId = Await.result(Environments.create(db.primary(), "dev", "DEVELOPMENT"), 10).id();
    capture = vertx.eventBus().consumer(Addresses.envChanges(envId), m -> records.add(m.body()));
    Await.result(capture.completion(), 10);
    JsonObject flat = FreshetConfig.defaults().with(config).toJson();
    Await.result(vertx.deployVerticle(new PublisherVerticle(db.primary()), new DeploymentOptions().setConfig(flat)), 10);
  }

  PublisherFixture() {
    this(new JsonObject().put(FreshetConfig.PUBLISHER_FLUSH_INTERVAL_MS.path(), 50));
  }

  /** Sends a command and returns the reply; fails the test on an error reply. */
  JsonObject send(JsonObject command) {
    Future<Message<Object>> reply = vertx.eventBus().request(NodeAddresses.publisherCommands(), command);
    try {
      return (JsonObject) Await.result(reply, 30).body();
    } catch (RuntimeException e) {
      ReplyException failure = replyException(e);
      return fail("command " + command.getString("op") + " failed with " + (failure == null ? e
          : failure.failureCode() + " " + failure.getMessage()));
    }
  }

  /** Sends a command expected to fail and returns the failure (status and message). */
  ReplyException sendFailing(JsonObject command) {
    return sendFailing(NodeAddresses.publisherCommands(), command);
  }

  ReplyException sendFailing(String address, Object body) {
    Future<Message<Object>> reply = vertx.eventBus().request(address, body);
    try {
      Object ok = Await.result(reply, 30).body();
      return fail("expected a failure, got " + ok);
    } catch (RuntimeException e) {
      ReplyException failure = replyException(e);
      if (failure == null) {
        throw e;
      }
      return failure;
    }
  }

  JsonObject command(String op) {
    return new JsonObject().put("op", op).put("envId", envId);
  }

  /** Triggers a run of {@code taskId} with {@code body} and returns its id. */
  String trigger(String taskId, JsonObject body) {
    return send(command("trigger").put("taskId", taskId).put("body", body)).getString("id");
  }

  Row run(String runId) {
    RowSet<Row> rows = Await.result(db.primary().preparedQuery("SELECT * FROM task_runs WHERE friendly_id = $1")
        .execute(Tuple.of(runId)), 10);
    assertThat(rows.size()).as("row for %s", runId).isEqualTo(1);
    return rows.iterator().next();
  }

  long count(String sql, Object... params) {
    return Await.result(db.primary().preparedQuery(sql).execute(Tuple.wrap(params)), 10).iterator().next().getLong(0);
  }

  static long updatedAtMs(Row row) {
    return row.getLocalDateTime("updated_at").toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  /** The next captured record, waiting up to 10 s. */
  ChangeRecord nextRecord() {
    try {
      ChangeRecord record = records.poll(10, TimeUnit.SECONDS);
      if (record == null) {
        return fail("no change record within 10 s");
      }
      return record;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  List<ChangeRecord> nextRecords(int n) {
    List<ChangeRecord> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(nextRecord());
    }
    return out;
  }

  /**
   * Proves nothing was published since the last record taken: triggers a sentinel run, whose
   * record must be the very next one. Records from one publisher reach a consumer in order, so
   * anything published before the sentinel would arrive first.
   */
  void assertNothingPublished() {
    String sentinel = trigger("sentinel", new JsonObject());
    ChangeRecord next = nextRecord();
    assertThat(next.runId()).as("the record after a write that should publish nothing").isEqualTo(sentinel);
  }

  void drainRecords() {
    records.clear();
  }

  private static ReplyException replyException(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ReplyException r) {
        return r;
      }
    }
    return null;
  }

  @Override
  public void close() {
    try {
      db.close();
    } finally {
      Await.result(vertx.close(), 10);
    }
  }
}
