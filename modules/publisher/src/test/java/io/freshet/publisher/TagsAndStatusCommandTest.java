package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.testing.Await;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.util.List;
import org.junit.jupiter.api.Test;

class TagsAndStatusCommandTest extends OnThePrimary {

  private String run(String... tags) {
    String runId = f.trigger("work", new JsonObject().put("payload", "{\"n\":1}")
        .put("options", new JsonObject().put("tags", new JsonArray(List.of((Object[]) tags)))));
    f.nextRecord();
    return runId;
  }

  private Transitioned transition(String runId, String to) {
    return f.send(f.transition(runId, new JsonObject().put("to", to)));
  }

  private JsonObject retrieve(String runId) {
    return f.send(f.retrieve(runId)).run();
  }

  @Test
  void addTagsPublishesTheNewTagSet() {
    String runId = run("a");

    TagsAdded reply = f.send(f.addTags(runId, new JsonArray().add("b").add(" c ").add("a").add("")));

    assertThat(reply.toJson()).isEqualTo(new JsonObject().put("message", "Successfully set 2 new tags."));
    ChangeRecord record = f.nextRecord();
    assertThat(record.tags()).containsExactly("a", "b", "c");
    Row row = f.run(runId);
    assertThat(row.getArrayOfStrings("run_tags")).containsExactly("a", "b", "c");
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
  }

  @Test
  void addTagsAcceptsASingleString() {
    String runId = run();

    f.send(f.addTags(runId, "solo"));

    assertThat(f.nextRecord().tags()).containsExactly("solo");
  }

  @Test
  void duplicateTagsAreNoNewTagsToAddAndPublishNothing() {
    String runId = run("a", "b");
    long version = PublisherFixture.updatedAtMs(f.run(runId));

    TagsAdded reply = f.send(f.addTags(runId, new JsonArray().add("b").add("a").add("  ")));

    assertThat(reply.toJson()).isEqualTo(new JsonObject().put("message", "No new tags to add"));
    assertThat(PublisherFixture.updatedAtMs(f.run(runId))).isEqualTo(version);
    f.assertNothingPublished();
  }

  @Test
  void tagsBeyondTenAre422AndNothingIsWritten() {
    String runId = run("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");

    ReplyException failure = f.sendFailing(f.addTags(runId, new JsonArray().add("x").add("y")));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).startsWith("Runs can only have 10 tags, ");
    assertThat(f.run(runId).getArrayOfStrings("run_tags")).hasSize(9);
    f.assertNothingPublished();
  }

  @Test
  void tagsForAnUnknownRunAre404() {
    String runId = run();
    assertThat(f.sendFailing(f.addTags("run_nope", "a")).failureCode()).isEqualTo(404);
    assertThat(f.run(runId).getArrayOfStrings("run_tags")).isEmpty();
  }

  @Test
  void cancelSetsCanceledWithCompletedAtAndPublishes() {
    String runId = run("keep");

    Cancelled reply = f.send(f.cancel(runId));

    assertThat(reply.toJson()).isEqualTo(new JsonObject().put("id", runId));
    Row row = f.run(runId);
    assertThat(row.getString("status")).isEqualTo("CANCELED");
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    ChangeRecord record = f.nextRecord();
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
    assertThat(record.tags()).containsExactly("keep");
    JsonObject retrieved = retrieve(runId);
    assertThat(retrieved.getString("status")).isEqualTo("CANCELED");
    assertThat(retrieved.getBoolean("isCompleted")).isTrue();
    assertThat(retrieved.getBoolean("isCancelled")).isTrue();
    assertThat(retrieved.getString("finishedAt")).isNotNull();
  }

  @Test
  void cancellingAFinishedRunIsAQuietNoOp() {
    String runId = run();
    f.send(f.cancel(runId));
    f.nextRecord();
    Row before = f.run(runId);

    Cancelled reply = f.send(f.cancel(runId));

    assertThat(reply).isEqualTo(new Cancelled(runId));
    assertThat(f.run(runId).getLocalDateTime("updated_at")).isEqualTo(before.getLocalDateTime("updated_at"));
    f.assertNothingPublished();
  }

  @Test
  void cancelOfAnUnknownRunIs404() {
    assertThat(f.sendFailing(f.cancel("run_nope")).failureCode()).isEqualTo(404);
  }

  @Test
  void executingThenCompletedSetsStartedAtCompletedAtAndOutput() {
    String runId = run();

    Transitioned executing = transition(runId, "executing");
    ChangeRecord executingRecord = f.nextRecord();
    Transitioned completed = f.send(f.transition(runId, new JsonObject().put("to", "completed")
        .put("output", new JsonObject().put("ok", true)).put("usageDurationMs", 1234)));
    ChangeRecord completedRecord = f.nextRecord();

    assertThat(executing.status()).isEqualTo("EXECUTING");
    assertThat(completed.status()).isEqualTo("COMPLETED_SUCCESSFULLY");
    assertThat(completed.runId()).isEqualTo(runId);
    Row row = f.run(runId);
    assertThat(row.getLocalDateTime("started_at")).isNotNull();
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    assertThat(row.getString("output")).isEqualTo("{\"ok\":true}");
    assertThat(row.getString("output_type")).isEqualTo("application/json");
    assertThat(row.getInteger("usage_duration_ms")).isEqualTo(1234);
    assertThat(completedRecord.updatedAtMs()).isGreaterThan(executingRecord.updatedAtMs());
    assertThat(completedRecord.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
    assertThat(completed.updatedAt()).isEqualTo(StatusTransitions.iso(row.getLocalDateTime("updated_at")));
    assertThat(completed.toJson()).isEqualTo(new JsonObject().put("id", runId).put("status", "COMPLETED_SUCCESSFULLY")
        .put("updatedAt", completed.updatedAt()));

    JsonObject retrieved = retrieve(runId);
    assertThat(retrieved.getString("status")).isEqualTo("COMPLETED");
    assertThat(retrieved.getBoolean("isSuccess")).isTrue();
    assertThat(retrieved.getBoolean("isCompleted")).isTrue();
    assertThat(retrieved.getJsonObject("output")).isEqualTo(new JsonObject().put("ok", true));
    assertThat(retrieved.getJsonObject("payload")).isEqualTo(new JsonObject().put("n", 1));
    assertThat(retrieved.getInteger("durationMs")).isEqualTo(1234);
    assertThat(retrieved.getInteger("attemptCount")).isEqualTo(1);
  }

  @Test
  void aCompletedRunCannotTransition() {
    String runId = run();
    transition(runId, "completed");
    f.nextRecord();

    ReplyException failure = f.sendFailing(f.transition(runId, new JsonObject().put("to", "executing")));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).contains("final status");
    assertThat(f.run(runId).getString("status")).isEqualTo("COMPLETED_SUCCESSFULLY");
    f.assertNothingPublished();
  }

  @Test
  void failedStoresATaskRunErrorAndAStringBecomesStringError() {
    String structured = run();
    String plain = run();

    f.send(f.transition(structured, new JsonObject().put("to", "failed").put("error", new JsonObject()
        .put("type", "BUILT_IN_ERROR").put("name", "TypeError").put("message", "boom").put("stackTrace", "at x"))));
    f.send(f.transition(plain, new JsonObject().put("to", "failed").put("error", "it broke")));

    Row row = f.run(plain);
    assertThat(row.getString("status")).isEqualTo("COMPLETED_WITH_ERRORS");
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    assertThat((JsonObject) row.getValue("error")).isEqualTo(new JsonObject().put("type", "STRING_ERROR").put("raw", "it broke"));
    JsonObject retrieved = retrieve(structured);
    assertThat(retrieved.getString("status")).isEqualTo("FAILED");
    assertThat(retrieved.getBoolean("isFailed")).isTrue();
    assertThat(retrieved.getJsonObject("error"))
        .isEqualTo(new JsonObject().put("message", "boom").put("name", "TypeError").put("stackTrace", "at x"));
    assertThat(retrieved.fieldNames()).doesNotContain("output");
  }

  @Test
  void queuedTransitionSetsPendingAndQueuedAt() {
    String runId = f.trigger("later", new JsonObject().put("options", new JsonObject().put("delay", "1h")));
    f.nextRecord();

    Transitioned reply = transition(runId, "queued");

    assertThat(reply.status()).isEqualTo("PENDING");
    assertThat(f.run(runId).getLocalDateTime("queued_at")).isNotNull();
  }

  @Test
  void transitionOfAnUnknownRunIs404AndChangesNothing() {
    String runId = run();
    assertThat(f.sendFailing(f.transition("run_nope", new JsonObject().put("to", "executing"))).failureCode()).isEqualTo(404);
    assertThat(f.run(runId).getString("status")).isEqualTo("PENDING");
    f.assertNothingPublished();
  }

  @Test
  void engineTransitionsArriveOnTheClusteredAddress() {
    String runId = run();

    Object reply = Await.result(f.vertx.eventBus().request(NodeAddresses.engineTransitions(),
        new JsonObject().put("envId", f.envId).put("runId", runId).put("to", "executing")), 10).body();

    // The engine's reply stays JSON: {id, status, updatedAt}.
    JsonObject json = (JsonObject) reply;
    assertThat(json.fieldNames()).containsExactly("id", "status", "updatedAt");
    assertThat(json.getString("id")).isEqualTo(runId);
    assertThat(json.getString("status")).isEqualTo("EXECUTING");
    assertThat(json.getString("updatedAt")).isEqualTo(StatusTransitions.iso(f.run(runId).getLocalDateTime("updated_at")));
    assertThat(f.nextRecord().runId()).isEqualTo(runId);
  }

  @Test
  void malformedEngineTransitionsAre400NamingTheFieldAndChangeNothing() {
    String runId = run();

    ReplyException noEnv = f.sendFailing(NodeAddresses.engineTransitions(), new JsonObject().put("runId", runId).put("to", "executing"));
    ReplyException notAnObject = f.sendFailing(NodeAddresses.engineTransitions(), "just a string");
    ReplyException numericRun = f.sendFailing(NodeAddresses.engineTransitions(),
        new JsonObject().put("envId", f.envId).put("runId", 7).put("to", "executing"));
    ReplyException noTarget = f.sendFailing(NodeAddresses.engineTransitions(), new JsonObject().put("envId", f.envId).put("runId", runId));
    ReplyException negativeUsage = f.sendFailing(NodeAddresses.engineTransitions(), new JsonObject().put("envId", f.envId)
        .put("runId", runId).put("to", "completed").put("usageDurationMs", -1));

    assertThat(noEnv.failureCode()).isEqualTo(400);
    assertThat(noEnv.getMessage()).isEqualTo("envId is required and must be a non-empty string");
    assertThat(notAnObject.failureCode()).isEqualTo(400);
    assertThat(notAnObject.getMessage()).isEqualTo("transition must be a JSON object");
    assertThat(numericRun.failureCode()).isEqualTo(400);
    assertThat(numericRun.getMessage()).isEqualTo("runId is required and must be a non-empty string");
    assertThat(noTarget.failureCode()).isEqualTo(400);
    assertThat(noTarget.getMessage()).isEqualTo("to is required: queued, executing, completed or failed");
    assertThat(negativeUsage.failureCode()).isEqualTo(400);
    assertThat(negativeUsage.getMessage()).isEqualTo("usageDurationMs must be an integer from 0 to 2147483647");
    assertThat(f.run(runId).getString("status")).isEqualTo("PENDING");
    f.assertNothingPublished();
  }
}
