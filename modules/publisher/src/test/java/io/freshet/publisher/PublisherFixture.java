package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.time.FakeScheduler;
import io.freshet.core.write.TriggerRequest;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.freshet.core.write.WriteRequests;
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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A publisher deployed on a plain Vert.x against a fresh database on the real primary, with every
 * change record of its environment captured in arrival order. Commands are built as the web edge
 * builds them ({@link WriteRequests}, with the publisher's limits and a clock that stands still),
 * and sent typed.
 */
final class PublisherFixture implements AutoCloseable {

  final Vertx vertx;
  final TestDatabase db;
  final String envId;
  /** The edge's clock for the commands built here: a relative delay counts from it. */
  final FakeScheduler clock = new FakeScheduler();
  final WriteRequests requests;
  private final LinkedBlockingQueue<ChangeRecord> records = new LinkedBlockingQueue<>();
  private final MessageConsumer<ChangeRecord> capture;

  PublisherFixture(JsonObject config) {
    vertx = Vertx.vertx();
    NodeCodecs.register(vertx);
    db = PgRig.createDatabase(vertx);
    envId = Await.result(Environments.create(db.primary(), "dev", "DEVELOPMENT"), 10).id();
    capture = vertx.eventBus().consumer(Addresses.envChanges(envId), m -> records.add(m.body()));
    Await.result(capture.completion(), 10);
    FreshetConfig flat = FreshetConfig.defaults().with(config);
    requests = new WriteRequests(TriggerRequest.Limits.of(flat), clock);
    Await.result(vertx.deployVerticle(new PublisherVerticle(db.primary()), new DeploymentOptions().setConfig(flat.toJson())), 10);
  }

  PublisherFixture() {
    this(new JsonObject().put(FreshetConfig.PUBLISHER_FLUSH_INTERVAL_MS.path(), 50));
  }

  /** Sends a command and returns the reply; fails the test on an error reply. */
  <R extends WriteReply> R send(WriteCommand<R> command) {
    Future<Message<R>> reply = vertx.eventBus().request(NodeAddresses.publisherCommands(), command);
    try {
      return Await.result(reply, 30).body();
    } catch (RuntimeException e) {
      ReplyException failure = replyException(e);
      return fail("command " + command.getClass().getSimpleName() + " failed with " + (failure == null ? e
          : failure.failureCode() + " " + failure.getMessage()));
    }
  }

  /** Sends a command expected to fail and returns the failure (status and message). */
  ReplyException sendFailing(WriteCommand<?> command) {
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

  /** The refusal of a request the edge would not even send: building its command throws. */
  static FreshetException refused(Supplier<? extends WriteCommand<?>> build) {
    try {
      return fail("expected the edge to refuse the request, got " + build.get());
    } catch (FreshetException e) {
      return e;
    }
  }

  // The commands, from the bodies the HTTP API takes.

  WriteCommand.Trigger triggerCommand(String taskId, JsonObject body) {
    return requests.trigger(envId, taskId, body, null);
  }

  WriteCommand.CreateBatch createBatch(JsonObject body) {
    return WriteRequests.createBatch(envId, body);
  }

  WriteCommand.BatchItems batchItems(String batchId, JsonArray items) {
    return requests.batchItems(envId, batchId, items);
  }

  WriteCommand.BatchTrigger batchTrigger(JsonObject body) {
    return requests.batchTrigger(envId, body);
  }

  WriteCommand.UpdateMetadata updateMetadata(String runId, JsonObject body) {
    return WriteRequests.updateMetadata(envId, runId, body);
  }

  WriteCommand.AddTags addTags(String runId, Object tags) {
    return WriteRequests.addTags(envId, runId, new JsonObject().put("tags", tags));
  }

  WriteCommand.Cancel cancel(String runId) {
    return new WriteCommand.Cancel(envId, runId);
  }

  WriteCommand.Retrieve retrieve(String runId) {
    return new WriteCommand.Retrieve(envId, runId);
  }

  WriteCommand.Transition transition(String runId, JsonObject body) {
    return WriteRequests.transition(envId, runId, body);
  }

  /** Triggers a run of {@code taskId} with {@code body} and returns its id. */
  String trigger(String taskId, JsonObject body) {
    return send(triggerCommand(taskId, body)).runId();
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
