package io.freshet.core.write;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.write.WriteReply.BatchCreated;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.BatchTriggered;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.MetadataUpdated;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.core.write.WriteReply.Triggered;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The response bodies, byte for byte: trigger.dev's SDK reads these names, in this shape. */
class WriteReplyTest {

  @Test
  void aTriggerAnswersItsRunAndWhetherItWasCached() {
    assertThat(new Triggered("run_1", false).toJson().encode()).isEqualTo("{\"id\":\"run_1\",\"isCached\":false}");
    assertThat(new Triggered("run_1", true).toJson().encode()).isEqualTo("{\"id\":\"run_1\",\"isCached\":true}");
  }

  @Test
  void aBatchNamesItsIdempotencyKeyOnlyWhenItHasOne() {
    assertThat(new BatchCreated("batch_1", 3, false, null).toJson().encode())
        .isEqualTo("{\"id\":\"batch_1\",\"runCount\":3,\"isCached\":false}");
    assertThat(new BatchCreated("batch_1", 3, true, "k").toJson().encode())
        .isEqualTo("{\"id\":\"batch_1\",\"runCount\":3,\"isCached\":true,\"idempotencyKey\":\"k\"}");
    assertThat(new BatchTriggered("batch_2", 2).toJson().encode()).isEqualTo("{\"id\":\"batch_2\",\"runCount\":2}");
  }

  @Test
  void batchItemsCountWhatIsEnqueuedUntilTheBatchIsSealed() {
    assertThat(new BatchItemsAdded("batch_1", 2, 1, false, 2, 3).toJson().encode()).isEqualTo(
        "{\"id\":\"batch_1\",\"itemsAccepted\":2,\"itemsDeduplicated\":1,\"sealed\":false,\"enqueuedCount\":2,\"expectedCount\":3}");
    assertThat(new BatchItemsAdded("batch_1", 1, 2, true, 3, 3).toJson().encode())
        .isEqualTo("{\"id\":\"batch_1\",\"itemsAccepted\":1,\"itemsDeduplicated\":2,\"sealed\":true}");
  }

  @Test
  void runWritesAnswerInTheShapesTheSdkReads() {
    assertThat(new MetadataUpdated(new JsonObject().put("a", 1)).toJson().encode()).isEqualTo("{\"metadata\":{\"a\":1}}");
    assertThat(new TagsAdded(0).toJson().encode()).isEqualTo("{\"message\":\"No new tags to add\"}");
    assertThat(new TagsAdded(2).toJson().encode()).isEqualTo("{\"message\":\"Successfully set 2 new tags.\"}");
    assertThat(new Cancelled("run_1").toJson().encode()).isEqualTo("{\"id\":\"run_1\"}");
    assertThat(new Transitioned("run_1", "EXECUTING", "2026-01-01T00:00:00.000Z").toJson().encode())
        .isEqualTo("{\"id\":\"run_1\",\"status\":\"EXECUTING\",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}");
  }
}
