package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.testing.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The feed paths end to end, against the real primary and a standby 150 ms behind. The node's
 * lag estimate is kept at zero (no default, observations forgotten at once) so that every wake
 * races the replica and the tripwire has to act.
 */
@RigTest
class FeedsEndToEndTest {

  private static final long APPLY_DELAY_MS = 150;
  private static NodeFixture node;
  private static NodeFixture givesUp;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    JsonObject racing = new JsonObject().put("lag.heartbeat", false).put("lag.defaultMs", 0).put("gate.marginMs", 0).put("lag.observedFloorTtlMs", 1).put("lag.observedFloorDecayMs", 0).put("lag.windowMs", 1)
        .put("router.livePollTimeoutMs", 1500);
    node = NodeFixture.start(NodeFixture.gateOnly(racing));
    givesUp = NodeFixture.join(node, NodeFixture.gateOnly(racing).put("gate.staleRetries", 0).put("gate.maxDelayMs", 40)
        .put("gate.primaryFallbackPerSec", 0));
  }

  @AfterAll
  static void stop() {
    givesUp.close();
    node.close();
  }

  private static double metric(NodeFixture f, String line) {
    return f.http.get("/metrics").body().lines().filter(l -> l.startsWith(line)).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static Integer step(FeedFollower.Delivery d) {
    return d.metadata() == null ? null : d.metadata().getInteger("step");
  }

  @Test
  void aStaleReadIsWithheldRetriedAndRecoveredWithCurrentContent() {
    String runId = node.http.trigger("tripwire", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    node.db.awaitReplicaCaughtUp();
    double recoveredBefore = metric(node, "freshet_stale_hydrates_total{outcome=\"recovered\"");
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, false).ready()) {
      node.http.setMetadata(runId, new JsonObject().put("step", 1));
      assertThat(feed.await(d -> Integer.valueOf(1).equals(step(d)))).isNotNull();
      assertThat(feed.of(runId).stream().map(FeedsEndToEndTest::step).toList()).containsExactly(0, 1);
    }
    assertThat(metric(node, "freshet_stale_hydrates_total{outcome=\"recovered\"")).isGreaterThan(recoveredBefore);
  }

  @Test
  void withTheFallbackOffAStaleRowIsDeliveredWhenRetriesRunOutAndTheWatchBringsTheFreshOne() {
    String runId = givesUp.http.trigger("echo", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    givesUp.db.awaitReplicaCaughtUp();
    double gaveUpBefore = metric(givesUp, "freshet_stale_hydrates_total{outcome=\"gave_up\"");
    try (FeedFollower feed = new FeedFollower(givesUp.http, "/realtime/v1/runs/" + runId, false).ready()) {
      givesUp.http.setMetadata(runId, new JsonObject().put("step", 1));
      assertThat(feed.await(d -> Integer.valueOf(1).equals(step(d)))).as("the watch delivers the fresh row once the replica applies it").isNotNull();
    }
    assertThat(metric(givesUp, "freshet_stale_hydrates_total{outcome=\"gave_up\"")).as("the stale read was given up on").isGreaterThan(gaveUpBefore);
  }

  @Test
  void aRunCreatedAMomentAgoReachesATagFeedOnceTheReplicaHasIt() {
    String tag = "race-" + System.nanoTime();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs?tags=" + tag, false).ready()) {
      String runId = node.http.trigger("insert-race", new JsonObject().put("tags", new JsonArray().add(tag))
          .put("metadata", new JsonObject().put("step", 7)));
      FeedFollower.Delivery d = feed.await(x -> runId.equals(x.runId()));
      assertThat(d).isNotNull();
      assertThat(d.operation()).isEqualTo("insert");
      assertThat(step(d)).isEqualTo(7);
      assertThat(d.value().getString("runTags")).isEqualTo("{" + tag + "}");
    }
  }

  @Test
  void aRecordWithoutAWatermarkSkipsTheTripwireAndTheBackstopBringsTheFreshRow() {
    String runId = node.http.trigger("unstamped", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    node.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, false).ready()) {
      // Another app wrote directly and published a record without a watermark.
      Await.result(node.db.primary().preparedQuery("UPDATE task_runs SET metadata = $1, updated_at = updated_at + interval '1 second' WHERE friendly_id = $2")
          .execute(Tuple.of("{\"step\":5}", runId)), 10);
      ChangePublisher.create(node.node.vertx()).publish(new ChangeRecord(node.devEnvId(), runId, null, null, null));
      assertThat(feed.await(d -> Integer.valueOf(5).equals(step(d)))).isNotNull();
    }
  }

  @Test
  void parentOperationsAreFlushedToTheParentAndWakeItsFeed() {
    String parent = node.http.trigger("parent", new JsonObject().put("metadata", new JsonObject().put("progress", 0)));
    String child = node.http.trigger("child", new JsonObject().put("parentRunId", parent));
    node.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + parent, false).ready()) {
      Http.Response r = node.http.put("/api/v1/runs/" + child + "/metadata", new JsonObject()
          .put("operations", new JsonArray().add(new JsonObject().put("type", "set").put("key", "mine").put("value", 1)))
          .put("parentOperations", new JsonArray().add(new JsonObject().put("type", "set").put("key", "progress").put("value", 50)))
          .encode());
      assertThat(r.status()).isEqualTo(200);
      FeedFollower.Delivery d = feed.await(x -> x.metadata() != null && x.metadata().getInteger("progress", -1) == 50);
      assertThat(d).as("the flusher wrote the parent and published its record").isNotNull();
    }
  }

  @Test
  void aMetadataUpdateThatChangesNothingPublishesNothing() {
    String runId = node.http.trigger("noop", new JsonObject().put("metadata", new JsonObject().put("step", 3)));
    node.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, false).ready()) {
      double records = metric(node, "freshet_change_records_total");
      node.http.setMetadata(runId, new JsonObject().put("step", 3));
      node.http.setMetadata(runId, new JsonObject().put("step", 4)); // a real change after it, to wait for
      assertThat(feed.await(d -> Integer.valueOf(4).equals(step(d)))).isNotNull();
      assertThat(metric(node, "freshet_change_records_total")).as("only the real change published").isEqualTo(records + 1);
      assertThat(feed.of(runId).stream().map(FeedsEndToEndTest::step).toList()).containsExactly(3, 4);
    }
  }

  @Test
  void tagFeedsMatchEveryTagAndOnlyRunsCreatedInsideTheWindow() {
    String tag = "t" + System.nanoTime();
    String before = node.http.trigger("tags", new JsonObject().put("tags", new JsonArray().add(tag).add("both")));
    // Created an hour before the feed opens, instead of waiting out a window on the wall clock.
    Await.result(node.db.primary().preparedQuery("UPDATE task_runs SET created_at = created_at - interval '1 hour' WHERE friendly_id = $1")
        .execute(Tuple.of(before)), 10);
    node.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/runs?tags=" + tag + ",both&createdAt=10m", false).ready()) {
      String matching = node.http.trigger("tags", new JsonObject().put("tags", new JsonArray().add(tag).add("both")));
      String oneTag = node.http.trigger("tags", new JsonObject().put("tags", new JsonArray().add(tag)));
      node.http.setMetadata(before, new JsonObject().put("touched", true));
      assertThat(feed.await(d -> matching.equals(d.runId()))).isNotNull();
      // A matching run created after the others: once it arrives, anything of theirs would have too.
      String sentinel = node.http.trigger("tags", new JsonObject().put("tags", new JsonArray().add(tag).add("both")));
      assertThat(feed.await(d -> sentinel.equals(d.runId()))).isNotNull();
      assertThat(feed.deliveries.stream().map(FeedFollower.Delivery::runId).toList())
          .contains(matching).doesNotContain(oneTag, before);
    }
  }

  @Test
  void aBatchFeedFollowsTheRunsOfItsBatch() {
    Http.Response created = node.http.post("/api/v2/tasks/batch", new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "item").put("payload", "a"))
        .add(new JsonObject().put("task", "item").put("payload", "b"))).encode());
    assertThat(created.status()).isEqualTo(202);
    String batchId = created.json().getString("id");
    node.db.awaitReplicaCaughtUp();
    try (FeedFollower feed = new FeedFollower(node.http, "/realtime/v1/batches/" + batchId, false).ready()) {
      assertThat(feed.deliveries).hasSize(2).allMatch(d -> d.operation().equals("insert"));
      String first = feed.deliveries.get(0).runId();
      Http.Response done = node.http.post("/engine/v1/runs/" + first + "/transitions",
          new JsonObject().put("to", "completed").put("output", new JsonObject().put("ok", true)).encode());
      assertThat(done.status()).isEqualTo(200);
      FeedFollower.Delivery d = feed.await(x -> first.equals(x.runId()) && "COMPLETED_SUCCESSFULLY".equals(x.value().getString("status")));
      assertThat(d).isNotNull();
      assertThat(d.value().getString("completedAt")).isNotNull();
      assertThat(new JsonObject(d.value().getString("output")).getBoolean("ok")).isTrue();
    }
  }

  @Test
  void skipColumnsLeavesThemOutOfRowsAndSchemaButKeepsReservedOnes() {
    String runId = node.http.trigger("skip", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    node.db.awaitReplicaCaughtUp();
    Http.Response r = node.http.get("/realtime/v1/runs/" + runId + "?offset=-1&skipColumns=payload,metadata,status");
    assertThat(r.status()).isEqualTo(200);
    JsonObject value = new JsonArray(r.body()).getJsonObject(0).getJsonObject("value");
    assertThat(value.containsKey("payload")).isFalse();
    assertThat(value.containsKey("metadata")).isFalse();
    assertThat(value.getString("status")).isEqualTo("PENDING");
    assertThat(r.header("electric-schema")).doesNotContain("\"payload\"").contains("\"status\"");
    assertThat(List.of(r.header("electric-offset"), r.header("electric-handle"))).doesNotContainNull();
  }
}
