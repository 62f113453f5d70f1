package io.freshet.publisher;

import io.freshet.core.bus.NodeAddresses;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.producer.ChangeRecord;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class TriggerCommandTest extends OnThePrimary {

  private static JsonObject sdkBody() {
    return new JsonObject()
        .put("payload", "{\"json\":{\"hello\":\"world\"}}")
        .put("options", new JsonObject()
            .put("payloadType", "application/super+json")
            .put("payloadSize", 27)
            .put("tags", new JsonArray().add("user:1").add(" org:2 ").add("user:1").add(" "))
            .put("metadata", new JsonObject().put("m", 1))
            .put("ttl", "10m"));
  }

  @Test
  void triggerPublishesTheRowsCommittedVersionAndTags() {
    JsonObject reply = f.send(f.command("trigger").put("taskId", "my-task").put("body", sdkBody()));

    String runId = reply.getString("id");
    assertThat(runId).matches("run_[1-9a-km-z]{21}");
    assertThat(reply.getBoolean("isCached")).isFalse();
    ChangeRecord record = f.nextRecord();
    Row row = f.run(runId);
    assertThat(record.runId()).isEqualTo(runId);
    assertThat(record.envId()).isEqualTo(f.envId);
    assertThat(record.updatedAtMs()).isEqualTo(PublisherFixture.updatedAtMs(row));
    assertThat(record.tags()).containsExactly("user:1", "org:2");
    assertThat(record.batchId()).isNull();

    assertThat(row.getString("status")).isEqualTo("PENDING");
    assertThat(row.getLocalDateTime("queued_at")).isEqualTo(row.getLocalDateTime("created_at"));
    assertThat(row.getLocalDateTime("updated_at")).isEqualTo(row.getLocalDateTime("created_at"));
    assertThat(row.getString("payload")).isEqualTo("{\"json\":{\"hello\":\"world\"}}");
    assertThat(row.getString("payload_type")).isEqualTo("application/super+json");
    assertThat(new JsonObject(row.getString("metadata"))).isEqualTo(new JsonObject().put("m", 1));
    assertThat(row.getString("metadata_type")).isEqualTo("application/json");
    assertThat(row.getString("ttl")).isEqualTo("10m");
    assertThat(row.getArrayOfStrings("run_tags")).containsExactly("user:1", "org:2");
    assertThat(row.getInteger("number")).isPositive();
  }

  @Test
  void runNumbersCountUpPerTask() {
    String a = f.trigger("numbered", new JsonObject());
    String b = f.trigger("numbered", new JsonObject());
    String other = f.trigger("numbered-other", new JsonObject());

    assertThat(f.run(a).getInteger("number")).isEqualTo(1);
    assertThat(f.run(b).getInteger("number")).isEqualTo(2);
    assertThat(f.run(other).getInteger("number")).isEqualTo(1);
  }

  @Test
  void sameIdempotencyKeyReturnsTheCachedRunAndPublishesNothing() {
    JsonObject body = new JsonObject().put("payload", "1").put("options", new JsonObject().put("idempotencyKey", "key-1"));
    JsonObject first = f.send(f.command("trigger").put("taskId", "idem").put("body", body));
    f.nextRecord();

    JsonObject again = f.send(f.command("trigger").put("taskId", "idem").put("body", body));

    assertThat(again.getString("id")).isEqualTo(first.getString("id"));
    assertThat(again.getBoolean("isCached")).isTrue();
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'idem'")).isEqualTo(1);
    f.assertNothingPublished();
  }

  /** trigger.dev's idempotencyKeyTTL: a key holds until it expires, then the next trigger makes a new run. */
  @Test
  void anExpiredIdempotencyKeyTriggersANewRunThatTakesTheKey() {
    JsonObject body = new JsonObject().put("payload", "1")
        .put("options", new JsonObject().put("idempotencyKey", "key-ttl").put("idempotencyKeyTTL", "1h"));
    String first = f.send(f.command("trigger").put("taskId", "idem-ttl").put("body", body)).getString("id");
    f.nextRecord();
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + first + "'"
        + " AND idempotency_key_expires_at BETWEEN created_at + interval '59 minutes' AND created_at + interval '61 minutes'")).isEqualTo(1);
    assertThat(f.send(f.command("trigger").put("taskId", "idem-ttl").put("body", body)).getString("id")).isEqualTo(first);

    // The hour passes (moved on the row, not waited for).
    f.count("WITH moved AS (UPDATE task_runs SET idempotency_key_expires_at = created_at - interval '1 second'"
        + " WHERE friendly_id = '" + first + "' RETURNING 1) SELECT count(*) FROM moved");
    JsonObject fresh = f.send(f.command("trigger").put("taskId", "idem-ttl").put("body", body));
    f.nextRecord();

    assertThat(fresh.getString("id")).isNotEqualTo(first);
    assertThat(fresh.getBoolean("isCached")).isFalse();
    assertThat(f.send(f.command("trigger").put("taskId", "idem-ttl").put("body", body)).getString("id")).isEqualTo(fresh.getString("id"));
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + first + "' AND idempotency_key IS NULL")).isEqualTo(1);
    // Without a TTL, a key holds for trigger.dev's default 30 days.
    String defaulted = f.send(f.command("trigger").put("taskId", "idem-ttl")
        .put("body", new JsonObject().put("options", new JsonObject().put("idempotencyKey", "key-default")))).getString("id");
    f.nextRecord();
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + defaulted + "'"
        + " AND idempotency_key_expires_at = created_at + interval '30 days'")).isEqualTo(1);
  }

  @Test
  void retriedRequestWithTheSameRequestKeyReturnsTheSameRunWithoutWriting() {
    JsonObject command = f.command("trigger").put("taskId", "retried").put("body", new JsonObject()).put("requestKey", "req-42");
    String first = f.send(command).getString("id");
    f.nextRecord();

    JsonObject again = f.send(command);

    assertThat(again.getString("id")).isEqualTo(first);
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'retried'")).isEqualTo(1);
    f.assertNothingPublished();
  }

  @Test
  void delayedTriggerStoresDelayedStatusAndDueTime() {
    String runId = f.trigger("later", new JsonObject().put("options", new JsonObject().put("delay", "1h30m")));

    Row row = f.run(runId);
    assertThat(row.getString("status")).isEqualTo("DELAYED");
    assertThat(row.getLocalDateTime("queued_at")).isNull();
    LocalDateTime expected = row.getLocalDateTime("created_at").plusMinutes(90);
    assertThat(row.getLocalDateTime("delay_until")).isBetween(expected.minusSeconds(5), expected.plusSeconds(5));
  }

  @Test
  void delayToAPastDateMeansNoDelay() {
    String runId = f.trigger("past", new JsonObject().put("options", new JsonObject().put("delay", "2020-01-01T00:00:00.000Z")));

    Row row = f.run(runId);
    assertThat(row.getString("status")).isEqualTo("PENDING");
    assertThat(row.getLocalDateTime("delay_until")).isNull();
  }

  @Test
  void nonStringPayloadIsStoredAsJsonText() {
    String runId = f.trigger("raw", new JsonObject().put("payload", new JsonObject().put("a", 1)).put("options",
        new JsonObject().put("payloadType", "text/plain").put("test", true)));

    Row row = f.run(runId);
    assertThat(row.getString("payload")).isEqualTo("{\"a\":1}");
    assertThat(row.getString("payload_type")).isEqualTo("application/json");
    assertThat(row.getBoolean("is_test")).isTrue();
  }

  @Test
  void moreTagsThanTheLimitIs422AndCreatesNothing() {
    JsonArray tags = new JsonArray();
    for (int i = 0; i < 11; i++) {
      tags.add("t" + i);
    }
    ReplyException failure = f.sendFailing(f.command("trigger").put("taskId", "tagged")
        .put("body", new JsonObject().put("options", new JsonObject().put("tags", tags))));

    assertThat(failure.failureCode()).isEqualTo(422);
    assertThat(failure.getMessage()).startsWith("Runs can only have 10 tags");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'tagged'")).isZero();
  }

  @Test
  void malformedTriggerBodiesAre400NamingTheFieldAndWriteNothing() {
    List<JsonObject> bad = List.of(
        f.command("trigger").put("taskId", "bad task!").put("body", new JsonObject()),
        f.command("trigger").put("taskId", "").put("body", new JsonObject()),
        f.command("trigger").put("taskId", "x".repeat(129)).put("body", new JsonObject()),
        f.command("trigger").put("taskId", "bad").put("body", "not an object"),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", 5)),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("tags", 5))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("tags", new JsonArray().add("x".repeat(129))))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("delay", "soon"))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("ttl", -1))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("test", "yes"))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("metadata", new JsonArray()))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("idempotencyKey", "k".repeat(2049)))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject().put("payloadType", "application/store"))),
        f.command("trigger").put("taskId", "bad").put("body", new JsonObject().put("options", new JsonObject()
            .put("idempotencyKey", "k").put("idempotencyKeyTTL", "soon"))));

    for (JsonObject command : bad) {
      ReplyException failure = f.sendFailing(command);
      assertThat(failure.failureCode()).as("%s", command).isEqualTo(400);
    }
    assertThat(f.sendFailing(bad.get(7)).getMessage()).contains("options.delay");
    assertThat(f.sendFailing(bad.get(5)).getMessage()).contains("options.tags");
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'bad'")).isZero();
    f.assertNothingPublished();
  }

  @Test
  void malformedCommandsAre400() {
    assertThat(f.sendFailing(new JsonObject().put("op", "nope").put("envId", f.envId)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(new JsonObject().put("op", "trigger").put("taskId", "t")).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(new JsonObject().put("envId", f.envId)).failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(NodeAddresses.publisherCommands(), "just a string").failureCode()).isEqualTo(400);
    assertThat(f.sendFailing(f.command("retrieve").put("runId", 7)).failureCode()).isEqualTo(400);
  }

  @Test
  void retrieveAnswersTheSdkShapeFromThePrimary() {
    String runId = f.trigger("fetched", sdkBody());

    JsonObject run = f.send(f.command("retrieve").put("runId", runId));

    assertThat(run.getString("id")).isEqualTo(runId);
    assertThat(run.getString("status")).isEqualTo("QUEUED");
    assertThat(run.getString("taskIdentifier")).isEqualTo("fetched");
    assertThat(run.getBoolean("isQueued")).isTrue();
    assertThat(run.getBoolean("isCompleted")).isFalse();
    assertThat(run.getJsonObject("payload")).isEqualTo(new JsonObject().put("hello", "world"));
    assertThat(run.getJsonObject("metadata")).isEqualTo(new JsonObject().put("m", 1));
    assertThat(run.getJsonArray("tags")).containsExactly("org:2", "user:1");
    assertThat(run.getJsonObject("relatedRuns")).isEqualTo(new JsonObject());
    assertThat(run.getString("triggerFunction")).isEqualTo("trigger");
    assertThat(run.getInteger("depth")).isZero();
    assertThat(run.getInteger("attemptCount")).isZero();
    assertThat(run.getString("createdAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    Row row = f.run(runId);
    assertThat(run.getString("updatedAt")).isEqualTo(StatusTransitions.iso(row.getLocalDateTime("updated_at")));
    assertThat(run.fieldNames()).doesNotContain("output", "error", "startedAt", "finishedAt", "batchId");
    run.forEach(e -> assertThat(e.getValue()).as(e.getKey()).isNotNull());
  }

  @Test
  void retrieveOfAnUnknownRunIs404() {
    assertThat(f.sendFailing(f.command("retrieve").put("runId", "run_doesnotexist")).failureCode()).isEqualTo(404);
  }
}
