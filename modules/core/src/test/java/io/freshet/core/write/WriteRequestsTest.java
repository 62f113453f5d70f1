package io.freshet.core.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.freshet.core.time.FakeScheduler;
import io.freshet.core.write.WriteCommand.BatchItems;
import io.freshet.core.write.WriteCommand.Transition;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The write API's bodies parsed at the edge: what a command carries, and every refusal with its status. */
class WriteRequestsTest {

  static final String ENV = "env_1";
  static final String RUN = "run_1";
  final FakeScheduler clock = new FakeScheduler();
  final WriteRequests requests = new WriteRequests(new TriggerRequest.Limits(10, 1024), clock);

  private static FreshetException refused(Supplier<?> parse) {
    try {
      Object parsed = parse.get();
      throw new AssertionError("expected a refusal, parsed " + parsed);
    } catch (FreshetException e) {
      return e;
    }
  }

  private static JsonObject options(String key, Object value) {
    return new JsonObject().put("options", new JsonObject().put(key, value));
  }

  @Test
  void aTriggerCarriesItsValidatedRequestAndItsRequestKey() {
    WriteCommand.Trigger trigger = requests.trigger(ENV, "my-task", new JsonObject().put("payload", new JsonObject().put("a", 1))
        .put("options", new JsonObject().put("tags", new JsonArray().add(" b ").add("a").add("b")).put("delay", "1h")), "req-1");

    assertThat(trigger.envId()).isEqualTo(ENV);
    assertThat(trigger.requestKey()).isEqualTo("req-1");
    assertThat(trigger.request().taskId()).isEqualTo("my-task");
    assertThat(trigger.request().payload()).isEqualTo("{\"a\":1}");
    assertThat(trigger.request().payloadType()).isEqualTo("application/json");
    assertThat(trigger.request().tags()).containsExactly("b", "a");
    assertThat(trigger.request().delayUntil())
        .isEqualTo(LocalDateTime.ofInstant(clock.instant(), ZoneOffset.UTC).plusHours(1));
  }

  @Test
  void malformedTriggerBodiesAre400NamingTheField() {
    List<Supplier<?>> bad = List.of(
        () -> requests.trigger(ENV, "bad task!", new JsonObject(), null),
        () -> requests.trigger(ENV, "", new JsonObject(), null),
        () -> requests.trigger(ENV, "x".repeat(129), new JsonObject(), null),
        () -> requests.trigger(ENV, "bad", new JsonObject().put("options", 5), null),
        () -> requests.trigger(ENV, "bad", options("tags", 5), null),
        () -> requests.trigger(ENV, "bad", options("tags", new JsonArray().add("x".repeat(129))), null),
        () -> requests.trigger(ENV, "bad", options("delay", "soon"), null),
        () -> requests.trigger(ENV, "bad", options("ttl", -1), null),
        () -> requests.trigger(ENV, "bad", options("test", "yes"), null),
        () -> requests.trigger(ENV, "bad", options("metadata", new JsonArray()), null),
        () -> requests.trigger(ENV, "bad", options("idempotencyKey", "k".repeat(2049)), null),
        () -> requests.trigger(ENV, "bad", options("payloadType", "application/store"), null),
        () -> requests.trigger(ENV, "bad", new JsonObject().put("options", new JsonObject()
            .put("idempotencyKey", "k").put("idempotencyKeyTTL", "soon")), null),
        () -> requests.trigger(ENV, "bad", new JsonObject(), "r".repeat(257)));

    for (int i = 0; i < bad.size(); i++) {
      assertThat(refused(bad.get(i)).status()).as("case %d", i).isEqualTo(400);
    }
    assertThat(refused(bad.get(0)).getMessage()).isEqualTo("taskId may only contain letters, digits and _ . / : -");
    assertThat(refused(bad.get(6)).getMessage()).contains("options.delay");
    assertThat(refused(bad.get(4)).getMessage()).contains("options.tags");
    assertThat(refused(bad.get(13)).getMessage()).isEqualTo("requestKey must be at most 256 characters");
  }

  @Test
  void moreTagsThanTheLimitOnATriggerAre422() {
    JsonArray tags = new JsonArray();
    for (int i = 0; i < 11; i++) {
      tags.add("t" + i);
    }

    FreshetException e = refused(() -> requests.trigger(ENV, "tagged", options("tags", tags), null));

    assertThat(e.status()).isEqualTo(422);
    assertThat(e.getMessage()).isEqualTo("Runs can only have 10 tags, you are trying to set 11. Remove some tags and try again.");
  }

  @Test
  void anOversizeTriggerMetadataDocumentIs413() {
    FreshetException e = refused(() -> requests.trigger(ENV, "meta", options("metadata", new JsonObject().put("big", "x".repeat(1024))), null));

    assertThat(e.status()).isEqualTo(413);
    assertThat(e.getMessage()).isEqualTo("Metadata exceeds the maximum size of 1024 bytes (got 1034)");
  }

  @Test
  void aBatchCarriesItsCountTasksAndKey() {
    WriteCommand.CreateBatch batch = WriteRequests.createBatch(ENV, new JsonObject().put("runCount", 3.0)
        .put("taskIdentifiers", new JsonArray().add("a").add("b").add("a")).put("idempotencyKey", ""));

    assertThat(batch).isEqualTo(new WriteCommand.CreateBatch(ENV, 3, List.of("a", "b"), null));
  }

  @Test
  void malformedBatchBodiesAre400() {
    List<Supplier<?>> bad = List.of(
        () -> WriteRequests.createBatch(ENV, new JsonObject()),
        () -> WriteRequests.createBatch(ENV, new JsonObject().put("runCount", 0)),
        () -> WriteRequests.createBatch(ENV, new JsonObject().put("runCount", 1001)),
        () -> WriteRequests.createBatch(ENV, new JsonObject().put("runCount", 1.5)),
        () -> WriteRequests.createBatch(ENV, new JsonObject().put("runCount", 2).put("taskIdentifiers", new JsonArray().add(""))),
        () -> requests.batchTrigger(ENV, new JsonObject().put("items", new JsonArray())),
        () -> requests.batchTrigger(ENV, new JsonObject().put("items", new JsonArray().add(new JsonObject().put("task", "ok"))
            .add(new JsonObject().put("payload", "no task")))));

    for (int i = 0; i < bad.size(); i++) {
      assertThat(refused(bad.get(i)).status()).as("case %d", i).isEqualTo(400);
    }
    assertThat(refused(bad.get(0)).getMessage()).isEqualTo("runCount must be an integer from 1 to 1000");
    assertThat(refused(bad.get(4)).getMessage()).isEqualTo("taskIdentifiers[0] is required");
    assertThat(refused(bad.get(5)).getMessage()).isEqualTo("items must be an array of 1 to 500 items");
    assertThat(refused(bad.get(6)).getMessage()).isEqualTo("items[1].task is required and must be a string");
  }

  @Test
  void batchTriggerItemsKeepTheirOrder() {
    WriteCommand.BatchTrigger batch = requests.batchTrigger(ENV, new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "b").put("payload", "1"))
        .add(new JsonObject().put("task", "a").put("options", new JsonObject().put("tags", "x")))));

    assertThat(batch.items()).extracting(TriggerRequest::taskId).containsExactly("b", "a");
    assertThat(batch.items().get(1).tags()).containsExactly("x");
  }

  @Test
  void wellFormedBatchItemsCarryTheirIndexesAndNothingRejected() {
    BatchItems items = requests.batchItems(ENV, "batch_1", new JsonArray()
        .add(new JsonObject().put("index", 1).put("task", "t")).add(new JsonObject().put("index", 0.0).put("task", "u")));

    assertThat(items.rejected()).isNull();
    assertThat(items.items()).extracting(BatchItems.Item::index).containsExactly(1L, 0L);
    assertThat(items.items()).extracting(i -> i.request().taskId()).containsExactly("t", "u");
  }

  /** The publisher checks the batch and the earlier indexes first, so the first bad item travels with the command. */
  @Test
  void theFirstMalformedBatchItemTravelsAfterTheWellFormedOnesWithItsIndexWhenValid() {
    JsonObject good = new JsonObject().put("index", 0).put("task", "t");

    BatchItems badTask = requests.batchItems(ENV, "batch_1", new JsonArray().add(good)
        .add(new JsonObject().put("index", 7).put("task", 5)).add(new JsonObject().put("index", -1)));
    BatchItems badIndex = requests.batchItems(ENV, "batch_1", new JsonArray().add(new JsonObject().put("index", -1).put("task", "t")));
    BatchItems notAnObject = requests.batchItems(ENV, "batch_1", new JsonArray().add(good).add(5));

    assertThat(badTask.items()).hasSize(1);
    assertThat(badTask.rejected().index()).isEqualTo(7L);
    assertThat(badTask.rejected().problem().status()).isEqualTo(400);
    assertThat(badTask.rejected().problem().getMessage()).isEqualTo("items[1].task is required and must be a string");
    assertThat(badIndex.items()).isEmpty();
    assertThat(badIndex.rejected().index()).isNull();
    assertThat(badIndex.rejected().problem().getMessage()).isEqualTo("items[0].index is required and must be an integer >= 0");
    assertThat(notAnObject.rejected().index()).isNull();
    assertThat(notAnObject.rejected().problem().getMessage()).isEqualTo("items[1] must be a JSON object");
  }

  @Test
  void metadataOperationsWinOverTheReplacementDocument() {
    WriteCommand.UpdateMetadata both = WriteRequests.updateMetadata(ENV, RUN, new JsonObject()
        .put("operations", new JsonArray().add(new JsonObject().put("type", "set").put("key", "a").put("value", 1)))
        .put("metadata", "not even an object"));
    WriteCommand.UpdateMetadata replace = WriteRequests.updateMetadata(ENV, RUN, new JsonObject().put("metadata", new JsonObject().put("b", 2))
        .put("rootOperations", new JsonArray().add(new JsonObject().put("type", "increment").put("key", "n").put("value", 1))));

    assertThat(both.operations()).containsExactly(MetadataOperation.set("a", 1));
    assertThat(both.replacement()).isNull();
    assertThat(both.parentOperations()).isEmpty();
    assertThat(replace.operations()).isNull();
    assertThat(replace.replacement()).isEqualTo(new JsonObject().put("b", 2));
    assertThat(replace.rootOperations()).containsExactly(MetadataOperation.increment("n", 1));
  }

  @Test
  void malformedMetadataBodiesAre400() {
    List<JsonObject> bodies = List.of(
        new JsonObject().put("operations", "set"),
        new JsonObject().put("operations", new JsonArray().add(new JsonObject().put("type", "set").put("key", "fine").put("value", 1))
            .add(new JsonObject().put("type", "set").put("key", "$.").put("value", 1))),
        new JsonObject().put("operations", new JsonArray().add(new JsonObject().put("type", "increment").put("key", "n").put("value", "one"))),
        new JsonObject().put("operations", new JsonArray().add(new JsonObject().put("key", "n"))),
        new JsonObject().put("metadata", new JsonArray()),
        new JsonObject().put("parentOperations", new JsonArray().add("nope")),
        new JsonObject().put("operations", new JsonArray().add(new JsonObject().put("type", "set").put("key", "ok").put("value", 1)))
            .put("rootOperations", new JsonArray().add(5)));

    for (JsonObject body : bodies) {
      assertThat(refused(() -> WriteRequests.updateMetadata(ENV, RUN, body)).status()).as("%s", body).isEqualTo(400);
    }
    assertThat(refused(() -> WriteRequests.updateMetadata(ENV, RUN, bodies.get(0))).getMessage()).isEqualTo("operations must be an array");
    assertThat(refused(() -> WriteRequests.updateMetadata(ENV, RUN, bodies.get(4))).getMessage()).isEqualTo("metadata must be a JSON object");
    assertThat(refused(() -> WriteRequests.updateMetadata(ENV, RUN, bodies.get(6))).getMessage()).contains("rootOperations[0]");
  }

  @Test
  void tagsAreNormalisedAndMalformedOnesAre400() {
    assertThat(WriteRequests.addTags(ENV, RUN, new JsonObject().put("tags", new JsonArray().add("b").add(" c ").add("b").add("")))
        .tags()).containsExactly("b", "c");
    assertThat(WriteRequests.addTags(ENV, RUN, new JsonObject().put("tags", "solo")).tags()).containsExactly("solo");

    assertThat(refused(() -> WriteRequests.addTags(ENV, RUN, new JsonObject().put("tags", 3))).status()).isEqualTo(400);
    assertThat(refused(() -> WriteRequests.addTags(ENV, RUN, new JsonObject().put("tags", "x".repeat(129)))).status()).isEqualTo(400);
    FreshetException missing = refused(() -> WriteRequests.addTags(ENV, RUN, new JsonObject()));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.getMessage()).isEqualTo("tags is required: a string or an array of strings");
  }

  @Test
  void transitionsCarryWhatTheRunStores() {
    Transition json = WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "completed")
        .put("output", new JsonObject().put("ok", true)).put("outputType", "text/plain").put("usageDurationMs", 12.0));
    Transition text = WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "completed").put("output", "packets/o.json")
        .put("outputType", "application/store"));
    Transition failed = WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "failed").put("error", "it broke")
        .put("output", 5));
    Transition executing = WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "executing").put("usageDurationMs", -1));

    assertThat(json).isEqualTo(new Transition(ENV, RUN, Transition.Target.COMPLETED, "{\"ok\":true}", "application/json", null, 12));
    assertThat(text).isEqualTo(new Transition(ENV, RUN, Transition.Target.COMPLETED, "packets/o.json", "application/store", null, null));
    assertThat(failed).isEqualTo(new Transition(ENV, RUN, Transition.Target.FAILED, null, null,
        new JsonObject().put("type", "STRING_ERROR").put("raw", "it broke"), null));
    assertThat(executing).isEqualTo(new Transition(ENV, RUN, Transition.Target.EXECUTING, null, null, null, null));
    assertThat(failed.to().ends()).isTrue();
    assertThat(executing.to().ends()).isFalse();
  }

  @Test
  void badTransitionsAre400() {
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "sideways"))).getMessage())
        .isEqualTo("to must be queued, executing, completed or failed, not 'sideways'");
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject())).getMessage())
        .isEqualTo("to is required: queued, executing, completed or failed");
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "failed").put("error", 5))).status())
        .isEqualTo(400);
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "failed").put("error", new JsonObject())))
        .getMessage()).startsWith("error.type is required");
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "completed").put("usageDurationMs", -1)))
        .status()).isEqualTo(400);
    assertThat(refused(() -> WriteRequests.transition(ENV, RUN, new JsonObject().put("to", "completed").put("outputType", 7)))
        .getMessage()).isEqualTo("outputType must be a string");
  }

  @Test
  void anEngineTransitionNamesItsEnvironmentAndRunAndMayCarryAnOp() {
    Transition t = WriteRequests.engineTransition(new JsonObject().put("op", "transition").put("envId", ENV).put("runId", RUN)
        .put("to", "queued"));

    assertThat(t).isEqualTo(new Transition(ENV, RUN, Transition.Target.QUEUED, null, null, null, null));
    assertThatThrownBy(() -> WriteRequests.engineTransition("just a string")).hasMessage("transition must be a JSON object");
    assertThatThrownBy(() -> WriteRequests.engineTransition(new JsonObject().put("runId", RUN).put("to", "queued")))
        .hasMessage("envId is required and must be a non-empty string");
    assertThatThrownBy(() -> WriteRequests.engineTransition(new JsonObject().put("envId", ENV).put("runId", 7).put("to", "queued")))
        .hasMessage("runId is required and must be a non-empty string");
  }
}
