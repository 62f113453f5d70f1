package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply.RunRetrieved;
import io.freshet.core.write.WriteReply.Triggered;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

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
    Triggered reply = f.send(f.triggerCommand("my-task", sdkBody()));

    String runId = reply.runId();
    assertThat(runId).matches("run_[1-9a-km-z]{21}");
    assertThat(reply.cached()).isFalse();
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
    Triggered first = f.send(f.triggerCommand("idem", body));
    f.nextRecord();

    Triggered again = f.send(f.triggerCommand("idem", body));

    assertThat(again).isEqualTo(new Triggered(first.runId(), true));
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'idem'")).isEqualTo(1);
    f.assertNothingPublished();
  }

  /** trigger.dev's idempotencyKeyTTL: a key holds until it expires, then the next trigger makes a new run. */
  @Test
  void anExpiredIdempotencyKeyTriggersANewRunThatTakesTheKey() {
    JsonObject body = new JsonObject().put("payload", "1")
        .put("options", new JsonObject().put("idempotencyKey", "key-ttl").put("idempotencyKeyTTL", "1h"));
    String first = f.trigger("idem-ttl", body);
    f.nextRecord();
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + first + "'"
        + " AND idempotency_key_expires_at BETWEEN created_at + interval '59 minutes' AND created_at + interval '61 minutes'")).isEqualTo(1);
    assertThat(f.trigger("idem-ttl", body)).isEqualTo(first);

    // The hour passes (moved on the row, not waited for).
    f.count("WITH moved AS (UPDATE task_runs SET idempotency_key_expires_at = created_at - interval '1 second'"
        + " WHERE friendly_id = '" + first + "' RETURNING 1) SELECT count(*) FROM moved");
    Triggered fresh = f.send(f.triggerCommand("idem-ttl", body));
    f.nextRecord();

    assertThat(fresh.runId()).isNotEqualTo(first);
    assertThat(fresh.cached()).isFalse();
    assertThat(f.trigger("idem-ttl", body)).isEqualTo(fresh.runId());
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + first + "' AND idempotency_key IS NULL")).isEqualTo(1);
    // Without a TTL, a key holds for trigger.dev's default 30 days.
    String defaulted = f.trigger("idem-ttl", new JsonObject().put("options", new JsonObject().put("idempotencyKey", "key-default")));
    f.nextRecord();
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE friendly_id = '" + defaulted + "'"
        + " AND idempotency_key_expires_at = created_at + interval '30 days'")).isEqualTo(1);
  }

  @Test
  void retriedRequestWithTheSameRequestKeyReturnsTheSameRunWithoutWriting() {
    WriteCommand.Trigger command = f.requests.trigger(f.envId, "retried", new JsonObject(), "req-42");
    String first = f.send(command).runId();
    f.nextRecord();

    Triggered again = f.send(command);

    assertThat(again.runId()).isEqualTo(first);
    assertThat(f.count("SELECT count(*) FROM task_runs WHERE task_identifier = 'retried'")).isEqualTo(1);
    f.assertNothingPublished();
  }

  @Test
  void delayedTriggerStoresDelayedStatusAndDueTime() {
    String runId = f.trigger("later", new JsonObject().put("options", new JsonObject().put("delay", "1h30m")));

    Row row = f.run(runId);
    assertThat(row.getString("status")).isEqualTo("DELAYED");
    assertThat(row.getLocalDateTime("queued_at")).isNull();
    // The delay counts from the edge's clock when it parsed the request.
    LocalDateTime expected = LocalDateTime.ofInstant(f.clock.instant().plus(90, ChronoUnit.MINUTES), ZoneOffset.UTC);
    assertThat(row.getLocalDateTime("delay_until")).isEqualTo(expected);
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
  void aMessageThatIsNoCommandIsRefusedAsTheNodesOwnBugAndLoggedOnce() {
    // The node's own bug is logged with its stack trace: caught here, where it is checked, rather
    // than printed into a green suite's output.
    Logger logger = (Logger) LoggerFactory.getLogger(PublisherVerticle.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);
    logger.setAdditive(false);
    ReplyException failure;
    try {
      failure = f.sendFailing(NodeAddresses.publisherCommands(), new JsonObject().put("op", "trigger").put("envId", f.envId));
    } finally {
      logger.setAdditive(true);
      logger.detachAppender(log);
    }

    assertThat(failure.failureCode()).isEqualTo(500);
    assertThat(failure.getMessage()).isEqualTo("internal error");
    assertThat(log.list).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.ERROR);
      assertThat(e.getThrowableProxy().getMessage()).startsWith("not a WriteCommand");
    });
    f.assertNothingPublished();
  }

  @Test
  void retrieveAnswersTheSdkShapeFromThePrimary() {
    String runId = f.trigger("fetched", sdkBody());

    JsonObject run = f.send(f.retrieve(runId)).run();

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
  void retrieveCarriesAnOffloadedPayloadsStoragePathBesideTheRunNotInIt() {
    String runId = f.trigger("offloaded", new JsonObject().put("payload", "packets/run/payload.json")
        .put("options", new JsonObject().put("payloadType", "application/store")));

    RunRetrieved retrieved = f.send(f.retrieve(runId));

    assertThat(retrieved.payloadStorePath()).isEqualTo("packets/run/payload.json");
    assertThat(retrieved.outputStorePath()).isNull();
    assertThat(retrieved.run().fieldNames()).doesNotContain("payload", "payloadStorePath", "payloadPresignedUrl");
    assertThat(retrieved.run().getString("id")).isEqualTo(runId);

    f.send(f.transition(runId, new JsonObject().put("to", "completed").put("output", "packets/run/output.json")
        .put("outputType", "application/store")));
    RunRetrieved completed = f.send(f.retrieve(runId));

    assertThat(completed.outputStorePath()).isEqualTo("packets/run/output.json");
    assertThat(completed.payloadStorePath()).isEqualTo("packets/run/payload.json");
    assertThat(completed.run().fieldNames()).doesNotContain("output", "outputStorePath", "outputPresignedUrl");
    assertThat(completed.run().getString("status")).isEqualTo("COMPLETED");
  }

  @Test
  void retrieveOfAnUnknownRunIs404() {
    assertThat(f.sendFailing(f.retrieve("run_doesnotexist")).failureCode()).isEqualTo(404);
  }
}
