package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.producer.ChangeRecord;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BatchCommandTest extends OnThePrimary {

  private JsonObject createBatch(JsonObject body) {
    return f.send(f.command("createBatch").put("body", body));
  }

  private static JsonObject item(int index, String payload) {
    return new JsonObject().put("index", index).put("task", "my-task").put("payload", payload)
        .put("options", new JsonObject().put("payloadType", "text/plain").put("tags", "t"));
  }

  private JsonObject items(String batchId, JsonObject... items) {
    return f.send(f.command("batchItems").put("batchId", batchId).put("items", new JsonArray(List.of((Object[]) items))));
  }

  @Test
  void batchItemsAreDedupedByIndexAndTheBatchSealsWhenEveryIndexHasARun() {
    JsonObject batch = createBatch(new JsonObject().put("runCount", 3).put("taskIdentifiers", new JsonArray().add("my-task")));
    String batchId = batch.getString("id");
    assertThat(batch).isEqualTo(new JsonObject().put("id", batchId).put("runCount", 3).put("isCached", false));
    assertThat(batchId).matches("batch_[1-9a-km-z]{21}");

    JsonObject first = items(batchId, item(0, "a"), item(1, "b"), item(1, "b-again"));
    assertThat(first).isEqualTo(new JsonObject().put("id", batchId).put("itemsAccepted", 2).put("itemsDeduplicated", 1)
        .put("sealed", false).put("enqueuedCount", 2).put("expectedCount", 3));
    List<ChangeRecord> records = f.nextRecords(2);
    assertThat(records).allSatisfy(r -> {
      assertThat(r.batchId()).isEqualTo(batchId);
      assertThat(r.tags()).containsExactly("t");
    });

    // The SDK resends the whole stream until sealed.
    JsonObject second = items(batchId, item(0, "a"), item(1, "b"), item(2, "c"));
    assertThat(second).isEqualTo(new JsonObject().put("id", batchId).put("itemsAccepted", 1).put("itemsDeduplicated", 2)
        .put("sealed", true));
    assertThat(f.nextRecord().batchId()).isEqualTo(batchId);

    JsonObject third = items(batchId, item(0, "a"), item(1, "b"), item(2, "c"));
    assertThat(third.getBoolean("sealed")).isTrue();
    assertThat(third.getInteger("itemsAccepted")).isZero();

    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1", batchId)).isEqualTo(3);
    assertThat(f.count("SELECT count(*) FROM batches WHERE id = $1 AND sealed", batchId)).isEqualTo(1);
    Set<String> payloads = Set.of("a", "b", "c");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1 AND payload = ANY($2)", batchId,
        payloads.toArray(String[]::new))).isEqualTo(3);
    f.assertNothingPublished();
  }

  @Test
  void sameBatchIdempotencyKeyReturnsTheExistingBatch() {
    JsonObject first = createBatch(new JsonObject().put("runCount", 2).put("idempotencyKey", "bk"));
    JsonObject again = createBatch(new JsonObject().put("runCount", 2).put("idempotencyKey", "bk"));

    assertThat(first.getBoolean("isCached")).isFalse();
    assertThat(first.getString("idempotencyKey")).isEqualTo("bk");
    assertThat(again).isEqualTo(first.copy().put("isCached", true));
  }

  @Test
  void itemsForAnUnknownBatchAre404AndOutOfRangeIndexesAre400() {
    assertThat(f.sendFailing(f.command("batchItems").put("batchId", "batch_nope").put("items", new JsonArray().add(item(0, "a"))))
        .failureCode()).isEqualTo(404);
    String batchId = createBatch(new JsonObject().put("runCount", 2)).getString("id");

    ReplyException outOfRange = f.sendFailing(f.command("batchItems").put("batchId", batchId)
        .put("items", new JsonArray().add(item(0, "a")).add(item(2, "c"))));

    assertThat(outOfRange.failureCode()).isEqualTo(400);
    assertThat(outOfRange.getMessage()).contains("items[1].index");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1", batchId)).isZero();
  }

  @Test
  void malformedBatchBodiesAre400AndWriteNothing() {
    long batchesBefore = f.count("SELECT count(*) FROM batches");
    long runsBefore = f.count("SELECT count(*) FROM task_runs");
    List<JsonObject> bad = List.of(
        f.command("createBatch").put("body", new JsonObject()),
        f.command("createBatch").put("body", new JsonObject().put("runCount", 0)),
        f.command("createBatch").put("body", new JsonObject().put("runCount", 1001)),
        f.command("createBatch").put("body", new JsonObject().put("runCount", 1.5)),
        f.command("createBatch").put("body", new JsonObject().put("runCount", 2).put("taskIdentifiers", new JsonArray().add(""))),
        f.command("batchTrigger").put("body", new JsonObject().put("items", new JsonArray())),
        f.command("batchTrigger").put("body", new JsonObject().put("items", new JsonArray().add(new JsonObject().put("task", "ok"))
            .add(new JsonObject().put("payload", "no task")))),
        f.command("batchItems").put("items", new JsonArray()));
    for (JsonObject command : bad) {
      assertThat(f.sendFailing(command).failureCode()).as("%s", command).isEqualTo(400);
    }
    assertThat(f.count("SELECT count(*) FROM batches")).isEqualTo(batchesBefore);
    assertThat(f.count("SELECT count(*) FROM task_runs")).isEqualTo(runsBefore);
  }

  @Test
  void batchTriggerCreatesASealedBatchWithOneRunPerItem() {
    JsonObject reply = f.send(f.command("batchTrigger").put("body", new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "a-task").put("payload", "{\"i\":0}"))
        .add(new JsonObject().put("task", "b-task").put("payload", "{\"i\":1}").put("options", new JsonObject().put("tags", "x"))))));

    String batchId = reply.getString("id");
    assertThat(reply).isEqualTo(new JsonObject().put("id", batchId).put("runCount", 2));
    List<ChangeRecord> records = f.nextRecords(2);
    assertThat(records.stream().map(ChangeRecord::batchId).collect(Collectors.toSet())).containsExactly(batchId);
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1 AND batch_index IN (0, 1)", batchId)).isEqualTo(2);
    assertThat(f.count("SELECT count(*) FROM batches WHERE id = $1 AND sealed AND run_count = 2", batchId)).isEqualTo(1);
  }
}
