package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.write.WriteReply.BatchCreated;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.BatchTriggered;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BatchCommandTest extends OnThePrimary {

  private BatchCreated createBatch(JsonObject body) {
    return f.send(f.createBatch(body));
  }

  private static JsonObject item(int index, String payload) {
    return new JsonObject().put("index", index).put("task", "my-task").put("payload", payload)
        .put("options", new JsonObject().put("payloadType", "text/plain").put("tags", "t"));
  }

  private BatchItemsAdded items(String batchId, JsonObject... items) {
    return f.send(f.batchItems(batchId, new JsonArray(List.of((Object[]) items))));
  }

  @Test
  void batchItemsAreDedupedByIndexAndTheBatchSealsWhenEveryIndexHasARun() {
    BatchCreated batch = createBatch(new JsonObject().put("runCount", 3).put("taskIdentifiers", new JsonArray().add("my-task")));
    String batchId = batch.id();
    assertThat(batch).isEqualTo(new BatchCreated(batchId, 3, false, null));
    assertThat(batch.toJson()).isEqualTo(new JsonObject().put("id", batchId).put("runCount", 3).put("isCached", false));
    assertThat(batchId).matches("batch_[1-9a-km-z]{21}");

    BatchItemsAdded first = items(batchId, item(0, "a"), item(1, "b"), item(1, "b-again"));
    assertThat(first.toJson()).isEqualTo(new JsonObject().put("id", batchId).put("itemsAccepted", 2).put("itemsDeduplicated", 1)
        .put("sealed", false).put("enqueuedCount", 2).put("expectedCount", 3));
    List<ChangeRecord> records = f.nextRecords(2);
    assertThat(records).allSatisfy(r -> {
      assertThat(r.batchId()).isEqualTo(batchId);
      assertThat(r.tags()).containsExactly("t");
    });

    // The SDK resends the whole stream until sealed.
    BatchItemsAdded second = items(batchId, item(0, "a"), item(1, "b"), item(2, "c"));
    assertThat(second.toJson()).isEqualTo(new JsonObject().put("id", batchId).put("itemsAccepted", 1).put("itemsDeduplicated", 2)
        .put("sealed", true));
    assertThat(f.nextRecord().batchId()).isEqualTo(batchId);

    BatchItemsAdded third = items(batchId, item(0, "a"), item(1, "b"), item(2, "c"));
    assertThat(third.sealed()).isTrue();
    assertThat(third.accepted()).isZero();

    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1", batchId)).isEqualTo(3);
    assertThat(f.count("SELECT count(*) FROM batches WHERE id = $1 AND sealed", batchId)).isEqualTo(1);
    Set<String> payloads = Set.of("a", "b", "c");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1 AND payload = ANY($2)", batchId,
        payloads.toArray(String[]::new))).isEqualTo(3);
    f.assertNothingPublished();
  }

  @Test
  void sameBatchIdempotencyKeyReturnsTheExistingBatch() {
    BatchCreated first = createBatch(new JsonObject().put("runCount", 2).put("idempotencyKey", "bk"));
    BatchCreated again = createBatch(new JsonObject().put("runCount", 2).put("idempotencyKey", "bk"));

    assertThat(first.cached()).isFalse();
    assertThat(first.idempotencyKey()).isEqualTo("bk");
    assertThat(first.toJson().getString("idempotencyKey")).isEqualTo("bk");
    assertThat(again).isEqualTo(new BatchCreated(first.id(), 2, true, "bk"));
  }

  @Test
  void itemsForAnUnknownBatchAre404AndOutOfRangeIndexesAre400() {
    assertThat(f.sendFailing(f.batchItems("batch_nope", new JsonArray().add(item(0, "a")))).failureCode()).isEqualTo(404);
    String batchId = createBatch(new JsonObject().put("runCount", 2)).id();

    ReplyException outOfRange = f.sendFailing(f.batchItems(batchId, new JsonArray().add(item(0, "a")).add(item(2, "c"))));

    assertThat(outOfRange.failureCode()).isEqualTo(400);
    assertThat(outOfRange.getMessage()).contains("items[1].index");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1", batchId)).isZero();
  }

  /** The batch is looked up before any item, and each item's index checked before its form. */
  @Test
  void aMalformedItemIsRefusedInItsTurnAfterTheBatchAndTheIndexesBeforeIt() {
    JsonObject malformed = item(1, "b").put("task", 7);
    assertThat(f.sendFailing(f.batchItems("batch_nope", new JsonArray().add(item(0, "a")).add(malformed))).failureCode())
        .isEqualTo(404);
    String batchId = createBatch(new JsonObject().put("runCount", 2)).id();

    ReplyException earlierOutOfRange = f.sendFailing(f.batchItems(batchId, new JsonArray().add(item(5, "a")).add(malformed)));
    ReplyException ownIndexOutOfRange = f.sendFailing(f.batchItems(batchId, new JsonArray().add(item(0, "a"))
        .add(item(9, "b").put("task", 7))));
    ReplyException malformedItself = f.sendFailing(f.batchItems(batchId, new JsonArray().add(item(0, "a")).add(malformed)));
    ReplyException badIndex = f.sendFailing(f.batchItems(batchId, new JsonArray().add(item(0, "a")).add(item(-1, "b"))));

    assertThat(earlierOutOfRange.failureCode()).isEqualTo(400);
    assertThat(earlierOutOfRange.getMessage()).isEqualTo("items[0].index 5 is out of range: the batch has 2 runs");
    assertThat(ownIndexOutOfRange.getMessage()).isEqualTo("items[1].index 9 is out of range: the batch has 2 runs");
    assertThat(malformedItself.failureCode()).isEqualTo(400);
    assertThat(malformedItself.getMessage()).isEqualTo("items[1].task is required and must be a string");
    assertThat(badIndex.getMessage()).isEqualTo("items[1].index is required and must be an integer >= 0");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1", batchId)).isZero();
  }

  @Test
  void batchTriggerCreatesASealedBatchWithOneRunPerItem() {
    BatchTriggered reply = f.send(f.batchTrigger(new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "a-task").put("payload", "{\"i\":0}"))
        .add(new JsonObject().put("task", "b-task").put("payload", "{\"i\":1}").put("options", new JsonObject().put("tags", "x"))))));

    String batchId = reply.id();
    assertThat(reply.toJson()).isEqualTo(new JsonObject().put("id", batchId).put("runCount", 2));
    List<ChangeRecord> records = f.nextRecords(2);
    assertThat(records.stream().map(ChangeRecord::batchId).collect(Collectors.toSet())).containsExactly(batchId);
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE batch_id = $1 AND batch_index IN (0, 1)", batchId)).isEqualTo(2);
    assertThat(f.count("SELECT count(*) FROM batches WHERE id = $1 AND sealed AND run_count = 2", batchId)).isEqualTo(1);
  }
}
