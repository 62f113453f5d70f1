package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.RigTest;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@RigTest
class MetadataCommandTest {

  static final int MAX_BYTES = 1024;
  static PublisherFixture f;

  @BeforeAll
  static void start() {
    f = new PublisherFixture(new JsonObject()
        .put(FreshetConfig.PUBLISHER_FLUSH_INTERVAL_MS.path(), 50)
        .put(FreshetConfig.PUBLISHER_MAX_METADATA_BYTES.path(), MAX_BYTES));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @BeforeEach
  void clearRecords() {
    f.drainRecords();
  }

  private String runWithMetadata(JsonObject metadata) {
    String runId = f.trigger("meta", new JsonObject().put("options", new JsonObject().put("metadata", metadata)));
    f.nextRecord();
    return runId;
  }

  /** The run's document as the reply carries it. */
  private JsonObject update(String runId, JsonObject body) {
    return f.send(f.updateMetadata(runId, body)).metadata();
  }

  private static JsonObject ops(JsonObject... ops) {
    return new JsonObject().put("operations", new JsonArray(List.of((Object[]) ops)));
  }

  private static JsonObject op(String type, String key, Object value) {
    JsonObject op = new JsonObject().put("type", type).put("key", key);
    if (!type.equals("delete")) {
      op.put("value", value);
    }
    return op;
  }

  private JsonObject stored(String runId) {
    return new JsonObject(f.run(runId).getString("metadata"));
  }

  @Test
  void operationsApplyWithTheSdkSemanticsAndPublishTheNewVersion() {
    String runId = runWithMetadata(new JsonObject().put("list", new JsonArray().add(1).add(2).add(1)).put("n", 1)
        .put("nested", new JsonObject().put("x", 1)).put("gone", true));

    JsonObject metadata = update(runId, ops(
        op("set", "a.b", 1),                // a literal key with a dot
        op("set", "$.nested.y", 2),          // path set into an existing object
        op("set", "$.missing.z", 3),         // missing parent: silently ignored
        op("increment", "n", 4),
        op("increment", "counter", -2),      // missing counts from 0
        op("append", "list", 3),
        op("remove", "list", 1),
        op("append", "fresh", "x"),
        op("delete", "gone", null),
        op("delete", "$.nested.x", null)     // delete is literal only: nothing named "$.nested.x"
    ).put("metadata", new JsonObject().put("ignored", true)));

    JsonObject expected = new JsonObject()
        .put("list", new JsonArray().add(2).add(3))
        .put("n", 5)
        .put("nested", new JsonObject().put("x", 1).put("y", 2))
        .put("a.b", 1)
        .put("counter", -2)
        .put("fresh", new JsonArray().add("x"));
    assertThat(metadata).isEqualTo(expected);
    assertThat(stored(runId)).isEqualTo(expected);
    ChangeRecord record = f.nextRecord();
    assertThat(record.runId()).isEqualTo(runId);
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(f.run(runId)));
  }

  /**
   * A node that froze after its edge let a write through sends no update once the load balancer's
   * deadline has passed: the balancer has answered 503, so the write must not land later.
   */
  @Test
  void anUpdatePastItsDeadlineIsRefusedWith503AndWritesNothing() {
    String runId = runWithMetadata(new JsonObject().put("step", 1));
    JsonObject body = new JsonObject().put("metadata", new JsonObject().put("step", 2));

    ReplyException refused = f.sendFailing(f.updateMetadata(runId, body).withDeadline(System.currentTimeMillis() - 1));

    assertThat(refused.failureCode()).isEqualTo(503);
    assertThat(refused.getMessage()).contains("past its deadline", "nothing was written");
    assertThat(stored(runId)).isEqualTo(new JsonObject().put("step", 1));
    assertThat(update(runId, body)).isEqualTo(new JsonObject().put("step", 2));
    assertThat(f.send(f.updateMetadata(runId, new JsonObject().put("metadata", new JsonObject().put("step", 3)))
        .withDeadline(System.currentTimeMillis() + 60_000)).metadata()).isEqualTo(new JsonObject().put("step", 3));
  }

  @Test
  void updateOperationReplacesTheDocumentAndLaterOperationsApplyToIt() {
    String runId = runWithMetadata(new JsonObject().put("old", 1));

    JsonObject metadata = update(runId, ops(
        new JsonObject().put("type", "update").put("value", new JsonObject().put("fresh", 1)),
        op("increment", "fresh", 1)));

    assertThat(metadata).isEqualTo(new JsonObject().put("fresh", 2));
    assertThat(stored(runId)).isEqualTo(new JsonObject().put("fresh", 2));
  }

  @Test
  void metadataObjectReplacesWhenNoOperationsAreSent() {
    String runId = runWithMetadata(new JsonObject().put("old", 1));

    JsonObject metadata = update(runId, new JsonObject().put("metadata", new JsonObject().put("new", 2)));

    assertThat(metadata).isEqualTo(new JsonObject().put("new", 2));
    assertThat(stored(runId)).isEqualTo(new JsonObject().put("new", 2));
    assertThat(f.run(runId).getString("metadata_type")).isEqualTo("application/json");
    assertThat(f.nextRecord().runId()).isEqualTo(runId);
  }

  @Test
  void metadataUpdateThatChangesNothingPublishesNothing() {
    JsonObject doc = new JsonObject().put("a", 1).put("list", new JsonArray().add(1));
    String runId = runWithMetadata(doc);
    long version = PublisherFixture.updatedAtMs(f.run(runId));

    JsonObject byOps = update(runId, ops(op("set", "a", 1), op("remove", "list", 9), op("delete", "absent", null),
        op("set", "$.missing.deep", 1)));
    JsonObject byEqualReplace = update(runId, new JsonObject().put("metadata", new JsonObject().put("list", new JsonArray().add(1.0)).put("a", 1)));
    JsonObject byEmptyOps = update(runId, new JsonObject().put("operations", new JsonArray()).put("metadata", new JsonObject().put("z", 1)));
    JsonObject byNothing = update(runId, new JsonObject());

    assertThat(byOps).isEqualTo(doc);
    assertThat(byEqualReplace).isEqualTo(doc);
    assertThat(byEmptyOps).isEqualTo(doc);
    assertThat(byNothing).isEqualTo(new JsonObject());
    assertThat(PublisherFixture.updatedAtMs(f.run(runId))).isEqualTo(version);
    assertThat(stored(runId)).isEqualTo(doc);
    f.assertNothingPublished();
  }

  @Test
  void racingMetadataUpdatesAllApplyAndKeepTheVersionStrictlyIncreasing() {
    String runId = runWithMetadata(new JsonObject());
    int writers = 12;
    // A second publisher on the same command address: commands alternate between the two, so
    // their writes race in the database, not only in one publisher's queue.
    String second = Await.result(f.vertx.deployVerticle(new PublisherVerticle(f.db.primary()),
        new DeploymentOptions().setConfig(FreshetConfig.defaults().toJson())), 10);

    List<Future<Message<Object>>> replies = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      replies.add(f.vertx.eventBus().request(NodeAddresses.publisherCommands(),
          f.updateMetadata(runId, ops(op("increment", "count", 1), op("set", "w" + i, i)))));
    }
    Await.result(Future.all(replies), 30);
    Await.result(f.vertx.undeploy(second), 10);

    List<ChangeRecord> records = f.nextRecords(writers);
    List<Long> watermarks = records.stream().map(ChangeRecord::updatedAtMs).sorted().toList();
    assertThat(watermarks).doesNotHaveDuplicates();
    for (int i = 1; i < watermarks.size(); i++) {
      assertThat(watermarks.get(i)).isGreaterThan(watermarks.get(i - 1));
    }
    Row row = f.run(runId);
    assertThat(PublisherFixture.updatedAtMs(row)).isEqualTo(watermarks.get(watermarks.size() - 1));
    JsonObject metadata = new JsonObject(row.getString("metadata"));
    assertThat(metadata.getInteger("count")).isEqualTo(writers);
    for (int i = 0; i < writers; i++) {
      assertThat(metadata.getInteger("w" + i)).isEqualTo(i);
    }
  }

  @Test
  void versionStaysStrictlyIncreasingEvenWhenTheClockIsBehindTheRow() {
    String runId = runWithMetadata(new JsonObject());
    // A version ahead of the clock, as after a clock step back on the primary.
    Await.result(f.db.primary().preparedQuery("UPDATE task_runs SET updated_at = updated_at + interval '1 hour' WHERE friendly_id = $1")
        .execute(Tuple.of(runId)), 10);
    long ahead = PublisherFixture.updatedAtMs(f.run(runId));

    update(runId, ops(op("set", "a", 1)));

    ChangeRecord record = f.nextRecord();
    assertThat(record.updatedAtMs()).isEqualTo(ahead + 1);
    assertThat(PublisherFixture.updatedAtMs(f.run(runId))).isEqualTo(ahead + 1);
  }

  @Test
  void oversizeMetadataIs413AndLeavesTheStoredDocumentUnchanged() {
    JsonObject doc = new JsonObject().put("keep", 1);
    String runId = runWithMetadata(doc);

    ReplyException byReplace = f.sendFailing(f.updateMetadata(runId,
        new JsonObject().put("metadata", new JsonObject().put("big", "x".repeat(MAX_BYTES)))));
    ReplyException byOps = f.sendFailing(f.updateMetadata(runId, ops(op("set", "big", "x".repeat(MAX_BYTES)))));
    // A trigger's own document is measured at the edge, with the same limit.
    FreshetException onTrigger = PublisherFixture.refused(() -> f.triggerCommand("meta",
        new JsonObject().put("options", new JsonObject().put("metadata", new JsonObject().put("big", "x".repeat(MAX_BYTES))))));

    assertThat(byReplace.failureCode()).isEqualTo(413);
    assertThat(byOps.failureCode()).isEqualTo(413);
    assertThat(byOps.getMessage()).startsWith("Metadata exceeds the maximum size of " + MAX_BYTES + " bytes (got ");
    assertThat(onTrigger.status()).isEqualTo(413);
    assertThat(stored(runId)).isEqualTo(doc);
    f.assertNothingPublished();
  }

  @Test
  void unknownRunIs404() {
    ReplyException failure = f.sendFailing(f.updateMetadata("run_unknown", ops(op("set", "a", 1))));
    assertThat(failure.failureCode()).isEqualTo(404);
  }

  @Test
  void runCompletedMoreThanAnHourAgoRejectsMetadataWith422() {
    String runId = runWithMetadata(new JsonObject().put("a", 1));
    Await.result(f.db.primary().preparedQuery("UPDATE task_runs SET status = 'COMPLETED_SUCCESSFULLY',"
        + " completed_at = (now() AT TIME ZONE 'utc') - interval '2 hours' WHERE friendly_id = $1").execute(Tuple.of(runId)), 10);

    ReplyException failure = f.sendFailing(f.updateMetadata(runId, ops(op("set", "a", 2))));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).isEqualTo("Cannot update metadata for a completed run");
    assertThat(stored(runId)).isEqualTo(new JsonObject().put("a", 1));
  }

  @Test
  void parentOperationsAreWrittenByTheFlusherWhichPublishesForTheParent() {
    String parent = runWithMetadata(new JsonObject().put("done", 0));
    String child = f.trigger("child", new JsonObject().put("options", new JsonObject().put("parentRunId", parent)));
    f.nextRecord();
    String grandchild = f.trigger("grandchild", new JsonObject().put("options", new JsonObject().put("parentRunId", child)));
    f.nextRecord();
    assertThat(f.run(grandchild).getString("root_run_id")).isEqualTo(parent);

    JsonObject childMetadata = update(child, new JsonObject()
        .put("operations", new JsonArray().add(op("set", "mine", 1)))
        .put("parentOperations", new JsonArray().add(op("increment", "done", 1)).add(op("append", "log", "child"))));
    update(grandchild, new JsonObject()
        .put("operations", new JsonArray())
        .put("rootOperations", new JsonArray().add(op("increment", "done", 1))));

    // The request answers with the child's own document only.
    assertThat(childMetadata).isEqualTo(new JsonObject().put("mine", 1));
    ChangeRecord childRecord = f.nextRecord();
    assertThat(childRecord.runId()).isEqualTo(child);
    // The flusher writes the parent (once or twice, depending on how the flushes fell) and
    // publishes each version it wrote; the last one carries both requests' operations.
    ChangeRecord parentRecord = f.nextRecord();
    Row parentRow = f.run(parent);
    while (!new JsonObject(parentRow.getString("metadata")).getInteger("done").equals(2)
        || parentRecord.updatedAtMs() != PublisherFixture.updatedAtMs(parentRow)) {
      parentRecord = f.nextRecord();
      parentRow = f.run(parent);
    }
    assertThat(parentRecord.runId()).isEqualTo(parent);
    assertThat(new JsonObject(parentRow.getString("metadata")))
        .isEqualTo(new JsonObject().put("done", 2).put("log", new JsonArray().add("child")));
    assertThat(f.run(grandchild).getString("metadata")).isNull();
    f.assertNothingPublished();
  }

  @Test
  void parentOperationsOfARunWithoutParentApplyToTheRunItself() {
    String runId = runWithMetadata(new JsonObject());

    update(runId, new JsonObject().put("parentOperations", new JsonArray().add(op("set", "p", true))));

    ChangeRecord record = f.nextRecord();
    assertThat(record.runId()).isEqualTo(runId);
    assertThat(stored(runId)).isEqualTo(new JsonObject().put("p", true));
  }
}
