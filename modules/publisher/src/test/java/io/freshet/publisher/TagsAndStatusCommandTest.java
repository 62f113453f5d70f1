package io.freshet.publisher;

import io.freshet.core.bus.NodeAddresses;
import static org.assertj.core.api.Assertions.assertThat;

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

  private JsonObject transition(String runId, String to) {
    return f.send(f.command("transition").put("runId", runId).put("to", to));
  }

  @Test
  void addTagsPublishesTheNewTagSet() {
    String runId = run("a");

    JsonObject reply = f.send(f.command("addTags").put("runId", runId).put("tags", new JsonArray().add("b").add(" c ").add("a").add("")));

    assertThat(reply).isEqualTo(new JsonObject().put("message", "Successfully set 2 new tags."));
    ChangeRecord record = f.nextRecord();
    assertThat(record.tags()).containsExactly("a", "b", "c");
    Row row = f.run(runId);
    assertThat(row.getArrayOfStrings("run_tags")).containsExactly("a", "b", "c");
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
  }

  @Test
  void addTagsAcceptsASingleString() {
    String runId = run();

    f.send(f.command("addTags").put("runId", runId).put("tags", "solo"));

    assertThat(f.nextRecord().tags()).containsExactly("solo");
  }

  @Test
  void duplicateTagsAreNoNewTagsToAddAndPublishNothing() {
    String runId = run("a", "b");
    long version = PublisherFixture.updatedAtMs(f.run(runId));

    JsonObject reply = f.send(f.command("addTags").put("runId", runId).put("tags", new JsonArray().add("b").add("a").add("  ")));

    assertThat(reply).isEqualTo(new JsonObject().put("message", "No new tags to add"));
    assertThat(PublisherFixture.updatedAtMs(f.run(runId))).isEqualTo(version);
    f.assertNothingPublished();
  }

  @Test
  void tagsBeyondTenAre422AndNothingIsWritten() {
    String runId = run("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");

    ReplyException failure = f.sendFailing(f.command("addTags").put("runId", runId).put("tags", new JsonArray().add("x").add("y")));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).startsWith("Runs can only have 10 tags, ");
    assertThat(f.run(runId).getArrayOfStrings("run_tags")).hasSize(9);
    f.assertNothingPublished();
  }

  @Test
  void malformedOrUnknownTagRequestsAreRejected() {
    String runId = run();
    assertThat(f.sendFailing(f.command("addTags").put("runId", runId).put("tags", 3)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("addTags").put("runId", runId)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("addTags").put("runId", runId).put("tags", "x".repeat(129))).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("addTags").put("runId", "run_nope").put("tags", "a")).failureCode()).isEqualTo(404);
    assertThat(f.run(runId).getArrayOfStrings("run_tags")).isEmpty();
  }

  @Test
  void cancelSetsCanceledWithCompletedAtAndPublishes() {
    String runId = run("keep");

    JsonObject reply = f.send(f.command("cancel").put("runId", runId));

    assertThat(reply).isEqualTo(new JsonObject().put("id", runId));
    Row row = f.run(runId);
    assertThat(row.getString("status")).isEqualTo("CANCELED");
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    ChangeRecord record = f.nextRecord();
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
    assertThat(record.tags()).containsExactly("keep");
    JsonObject retrieved = f.send(f.command("retrieve").put("runId", runId));
    assertThat(retrieved.getString("status")).isEqualTo("CANCELED");
    assertThat(retrieved.getBoolean("isCompleted")).isTrue();
    assertThat(retrieved.getBoolean("isCancelled")).isTrue();
    assertThat(retrieved.getString("finishedAt")).isNotNull();
  }

  @Test
  void cancellingAFinishedRunIsAQuietNoOp() {
    String runId = run();
    f.send(f.command("cancel").put("runId", runId));
    f.nextRecord();
    Row before = f.run(runId);

    JsonObject reply = f.send(f.command("cancel").put("runId", runId));

    assertThat(reply).isEqualTo(new JsonObject().put("id", runId));
    assertThat(f.run(runId).getLocalDateTime("updated_at")).isEqualTo(before.getLocalDateTime("updated_at"));
    f.assertNothingPublished();
  }

  @Test
  void cancelOfAnUnknownRunIs404() {
    assertThat(f.sendFailing(f.command("cancel").put("runId", "run_nope")).failureCode()).isEqualTo(404);
  }

  @Test
  void executingThenCompletedSetsStartedAtCompletedAtAndOutput() {
    String runId = run();

    JsonObject executing = transition(runId, "executing");
    ChangeRecord executingRecord = f.nextRecord();
    JsonObject completed = f.send(f.command("transition").put("runId", runId).put("to", "completed")
        .put("output", new JsonObject().put("ok", true)).put("usageDurationMs", 1234));
    ChangeRecord completedRecord = f.nextRecord();

    assertThat(executing.getString("status")).isEqualTo("EXECUTING");
    assertThat(completed.getString("status")).isEqualTo("COMPLETED_SUCCESSFULLY");
    assertThat(completed.getString("id")).isEqualTo(runId);
    Row row = f.run(runId);
    assertThat(row.getLocalDateTime("started_at")).isNotNull();
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    assertThat(row.getString("output")).isEqualTo("{\"ok\":true}");
    assertThat(row.getString("output_type")).isEqualTo("application/json");
    assertThat(row.getInteger("usage_duration_ms")).isEqualTo(1234);
    assertThat(completedRecord.updatedAtMs()).isGreaterThan(executingRecord.updatedAtMs());
    assertThat(completedRecord.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
    assertThat(completed.getString("updatedAt")).isEqualTo(StatusTransitions.iso(row.getLocalDateTime("updated_at")));

    JsonObject retrieved = f.send(f.command("retrieve").put("runId", runId));
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

    ReplyException failure = f.sendFailing(f.command("transition").put("runId", runId).put("to", "executing"));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).contains("final status");
    assertThat(f.run(runId).getString("status")).isEqualTo("COMPLETED_SUCCESSFULLY");
    f.assertNothingPublished();
  }

  @Test
  void failedStoresATaskRunErrorAndAStringBecomesStringError() {
    String structured = run();
    String plain = run();

    f.send(f.command("transition").put("runId", structured).put("to", "failed").put("error", new JsonObject()
        .put("type", "BUILT_IN_ERROR").put("name", "TypeError").put("message", "boom").put("stackTrace", "at x")));
    f.send(f.command("transition").put("runId", plain).put("to", "failed").put("error", "it broke"));

    Row row = f.run(plain);
    assertThat(row.getString("status")).isEqualTo("COMPLETED_WITH_ERRORS");
    assertThat(row.getLocalDateTime("completed_at")).isNotNull();
    assertThat((JsonObject) row.getValue("error")).isEqualTo(new JsonObject().put("type", "STRING_ERROR").put("raw", "it broke"));
    JsonObject retrieved = f.send(f.command("retrieve").put("runId", structured));
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

    JsonObject reply = transition(runId, "queued");

    assertThat(reply.getString("status")).isEqualTo("PENDING");
    assertThat(f.run(runId).getLocalDateTime("queued_at")).isNotNull();
  }

  @Test
  void badTransitionsAre400Or404AndChangeNothing() {
    String runId = run();
    assertThat(f.sendFailing(f.command("transition").put("runId", runId).put("to", "sideways")).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("transition").put("runId", runId)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("transition").put("runId", runId).put("to", "failed").put("error", 5)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("transition").put("runId", runId).put("to", "completed").put("usageDurationMs", -1)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("transition").put("runId", "run_nope").put("to", "executing")).failureCode()).isEqualTo(404);
    assertThat(f.run(runId).getString("status")).isEqualTo("PENDING");
    f.assertNothingPublished();
  }

  @Test
  void engineTransitionsArriveOnTheClusteredAddress() {
    String runId = run();

    Object reply = Await.result(f.vertx.eventBus().request(NodeAddresses.engineTransitions(),
        new JsonObject().put("envId", f.envId).put("runId", runId).put("to", "executing")), 10).body();

    assertThat(((JsonObject) reply).getString("status")).isEqualTo("EXECUTING");
    assertThat(f.nextRecord().runId()).isEqualTo(runId);
    assertThat(f.sendFailing(NodeAddresses.engineTransitions(), new JsonObject().put("runId", runId).put("to", "executing"))
        .failureCode()).isEqualTo(400);
  }
}
