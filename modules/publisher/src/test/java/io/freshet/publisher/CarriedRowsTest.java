package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.freshet.producer.ChangeRecordCodec;
import io.freshet.store.RunReads;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.RigTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every run write's change record carries the row as it committed, taken from the write's own
 * {@code RETURNING}: the row a router builds from it (after the bus's wire form) is, column for
 * column and byte for byte in its Electric message, the row a read of the committed run returns.
 */
class CarriedRowsTest extends OnThePrimary {

  /** The record as a node on the far side of the cluster decodes it. */
  private static ChangeRecord overTheWire(ChangeRecord record) {
    ChangeRecordCodec codec = new ChangeRecordCodec();
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, record);
    return codec.decodeFromWire(0, buffer);
  }

  /** The record's row is exactly what a read of the run returns now (on the primary: nothing can lag). */
  private void carriesTheCommittedRow(String runId, ChangeRecord record) {
    assertThat(record.hasRow()).as("the record of %s carries its row", runId).isTrue();
    RunRow carried = RunRow.fromRecord(overTheWire(record));
    assertThat(carried).as("a complete row image").isNotNull();
    RunRow read = Await.result(RunReads.byIds(f.db.primary(), f.envId, List.of(runId)), 10).get(0);
    for (RunColumn column : RunColumn.values()) {
      assertThat(carried.text(column)).as(column.wireName()).isEqualTo(read.text(column));
    }
    assertThat(carried.updatedAtMs()).isEqualTo(read.updatedAtMs()).isEqualTo(record.updatedAtMs());
    assertThat(carried.createdAtMs()).isEqualTo(read.createdAtMs());
    assertThat(carried.tags()).isEqualTo(read.tags());
    assertThat(carried.batchId()).isEqualTo(read.batchId());
    assertThat(carried.message(RunColumn.ALL, false)).isEqualTo(read.message(RunColumn.ALL, false));
  }

  @Test
  void everyKindOfRunWriteCarriesItsCommittedRow() {
    String runId = f.trigger("work", new JsonObject().put("payload", "{\"n\":1}")
        .put("options", new JsonObject().put("tags", new JsonArray().add("a")).put("metadata", new JsonObject().put("step", 0))));
    carriesTheCommittedRow(runId, f.nextRecord());

    f.send(f.updateMetadata(runId, new JsonObject().put("metadata", new JsonObject().put("step", 1).put("text", "ü \"q\"\n"))));
    carriesTheCommittedRow(runId, f.nextRecord());

    f.send(f.addTags(runId, new JsonArray().add("b")));
    carriesTheCommittedRow(runId, f.nextRecord());

    f.send(f.transition(runId, new JsonObject().put("to", "executing")));
    carriesTheCommittedRow(runId, f.nextRecord());

    f.send(f.transition(runId, new JsonObject().put("to", "failed")
        .put("error", new JsonObject().put("type", "BUILT_IN_ERROR").put("name", "Error").put("message", "boom"))));
    ChangeRecord failed = f.nextRecord();
    carriesTheCommittedRow(runId, failed);
    assertThat(RunRow.fromRecord(failed).isCompleted()).isTrue();

    String other = f.trigger("work", new JsonObject());
    f.nextRecord();
    f.send(f.cancel(other));
    carriesTheCommittedRow(other, f.nextRecord());
  }

  @Test
  void aRowOverTheSizeLimitIsPublishedWithoutItAndTheRecordStaysValid() {
    try (PublisherFixture small = new PublisherFixture(new JsonObject()
        .put(FreshetConfig.PUBLISHER_FLUSH_INTERVAL_MS.path(), 50)
        .put(FreshetConfig.ROUTER_ROW_IMAGE_MAX_BYTES.path(), 2048))) {
      String fits = small.trigger("work", new JsonObject().put("payload", "{\"n\":1}"));
      assertThat(small.nextRecord().hasRow()).isTrue();

      String big = small.trigger("work", new JsonObject().put("payload", "x".repeat(4096)));
      ChangeRecord record = small.nextRecord();
      assertThat(record.runId()).isEqualTo(big);
      assertThat(record.hasRow()).as("a row over router.rowImageMaxBytes goes as a plain record").isFalse();
      assertThat(record.hasWatermark()).isTrue();
      assertThat(record.isFull()).isTrue();
      assertThat(overTheWire(record)).isEqualTo(record);
      assertThat(fits).isNotEqualTo(big);
    }
  }
}
