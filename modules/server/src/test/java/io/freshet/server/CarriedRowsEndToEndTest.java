package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.net.http.HttpResponse;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Changes whose records carry the committed row, behind a standby that applies every commit a
 * full second late: subscribers get each change's content from its record, not from the replica,
 * and nobody is ever shown an older row than one shown before, across nodes and new snapshots.
 * Records that carry no row (another app's, a row over the size limit) still go through the gate.
 */
@RigTest
class CarriedRowsEndToEndTest {

  private static final long APPLY_DELAY_MS = 1000;
  private static final int CHANGES = 200;
  private static final long INTERVAL_MS = 20;
  private static NodeFixture a;
  private static NodeFixture b;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(APPLY_DELAY_MS);
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", "freshet-test-" + UUID.randomUUID())
        .put("cluster.members", "127.0.0.1:5813,127.0.0.1:5814");
    a = NodeFixture.start(cluster.copy().put("cluster.port", 5813));
    b = NodeFixture.join(a, cluster.copy().put("cluster.port", 5814));
  }

  @AfterAll
  static void stop() {
    b.close();
    a.close();
    NodeFixture.applyDelay(150);
  }

  private static Integer step(FeedFollower.Delivery d) {
    JsonObject metadata = d.metadata();
    return metadata == null ? null : metadata.getInteger("step");
  }

  private static List<Integer> steps(FeedFollower feed, String runId) {
    return feed.of(runId).stream().map(CarriedRowsEndToEndTest::step).filter(Objects::nonNull).toList();
  }

  private static void assertNeverOlder(String who, List<Integer> steps) {
    for (int i = 1; i < steps.size(); i++) {
      assertThat(steps.get(i)).as("%s: delivery %d after %s", who, i, steps.subList(Math.max(0, i - 3), i))
          .isGreaterThanOrEqualTo(steps.get(i - 1));
    }
  }

  private static String runAtStepZero(String task) {
    String runId = a.http.trigger(task, new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    a.db.awaitReplicaCaughtUp();
    return runId;
  }

  @Test
  void everyChangeReachesLiveAndNewSubscribersOnBothNodesFromItsRecordAndNoneGoesBackwards() {
    String runId = runAtStepZero("carried");
    String path = "/realtime/v1/runs/" + runId;
    double settledFromRecordsOnB = b.metric("freshet_changes_settled_total{via=\"record\"");
    List<FeedFollower> followers = new ArrayList<>();
    try (FeedFollower sseA = new FeedFollower(a.http, path, true).ready().streamingReady();
        FeedFollower pollA = new FeedFollower(a.http, path, false).ready();
        FeedFollower sseB = new FeedFollower(b.http, path, true).ready().streamingReady()) {
      followers.addAll(List.of(sseA, pollA, sseB));
      FeedFollower switched = null;
      List<FeedFollower> snapshots = new ArrayList<>();
      List<Integer> acknowledgedBeforeSnapshot = new ArrayList<>();
      long next = System.currentTimeMillis();
      for (int step = 1; step <= CHANGES; step++) {
        FeedFollower.sleep(Math.max(0, next - System.currentTimeMillis()));
        next += INTERVAL_MS;
        a.http.setMetadata(runId, new JsonObject().put("step", step));
        if (step % 50 == 25) {
          // A new subscriber, on the other node every other time: its snapshot must already show the
          // change acknowledged just now, which the replica will not have for another second.
          NodeFixture node = snapshots.size() % 2 == 0 ? a : b;
          snapshots.add(new FeedFollower(node.http, path, false).ready());
          acknowledgedBeforeSnapshot.add(step);
        }
        if (step == CHANGES / 2) {
          // The node switch: the SSE subscriber of node A leaves it and subscribes on node B.
          List<Integer> shown = steps(sseA, runId);
          int lastShown = shown.isEmpty() ? 0 : shown.get(shown.size() - 1);
          sseA.close();
          switched = new FeedFollower(b.http, path, true).ready();
          List<Integer> first = steps(switched, runId);
          assertThat(first).as("the snapshot on node B after A showed step %d", lastShown).isNotEmpty();
          assertThat(first.get(0)).as("node B's snapshot is not older than what node A showed").isGreaterThanOrEqualTo(lastShown);
        }
      }
      followers.add(switched);
      followers.addAll(snapshots);
      for (int i = 0; i < snapshots.size(); i++) {
        List<Integer> first = steps(snapshots.get(i), runId);
        assertThat(first).as("snapshot %d", i).isNotEmpty();
        assertThat(first.get(0)).as("snapshot %d opened right after step %d was acknowledged", i, acknowledgedBeforeSnapshot.get(i))
            .isGreaterThanOrEqualTo(acknowledgedBeforeSnapshot.get(i));
      }
      for (int i = 0; i < followers.size(); i++) {
        FeedFollower feed = followers.get(i);
        if (feed == sseA) {
          continue; // closed at the switch
        }
        assertThat(feed.await(d -> Integer.valueOf(CHANGES).equals(step(d)))).as("follower %d gets the final step", i).isNotNull();
      }
      for (int i = 0; i < followers.size(); i++) {
        assertNeverOlder("follower " + i, steps(followers.get(i), runId));
      }
      assertThat(steps(pollA, runId)).as("the long-poll subscriber saw the changes as they came, not one a second")
          .hasSizeGreaterThan(CHANGES / 4);
      assertThat(steps(sseB, runId)).as("the SSE subscriber on the node that did not write").hasSizeGreaterThan(CHANGES / 4);
    } finally {
      followers.forEach(FeedFollower::close);
    }
    assertThat(b.metric("freshet_changes_settled_total{via=\"record\"") - settledFromRecordsOnB)
        .as("node B served the changes from their records").isGreaterThanOrEqualTo(CHANGES);
  }

  @Test
  void aRecordWithoutARowFromAnotherAppGoesThroughTheGateAndArrivesFresh() {
    String runId = runAtStepZero("producer");
    double readBefore = a.metric("freshet_changes_settled_total{via=\"read\"");
    try (FeedFollower feed = new FeedFollower(a.http, "/realtime/v1/runs/" + runId, true).ready().streamingReady()) {
      Row written = Await.result(a.db.primary().preparedQuery("UPDATE task_runs SET metadata = $1,"
          + " updated_at = GREATEST((clock_timestamp() AT TIME ZONE 'utc')::timestamp(3), updated_at + interval '1 millisecond')"
          + " WHERE friendly_id = $2 RETURNING updated_at, run_tags, batch_id")
          .execute(Tuple.of("{\"step\":1}", runId)), 10).iterator().next();
      long updatedAt = written.getLocalDateTime("updated_at").toInstant(ZoneOffset.UTC).toEpochMilli();
      ChangePublisher.create(a.node.vertx()).publish(ChangeRecord.of(a.devEnvId(), runId, updatedAt,
          List.of(written.getArrayOfStrings("run_tags")), written.getString("batch_id")));
      assertThat(feed.await(d -> Integer.valueOf(1).equals(step(d)))).isNotNull();
      assertThat(steps(feed, runId)).as("the gate held the replica's older row back").containsExactly(0, 1);
    }
    assertThat(a.metric("freshet_changes_settled_total{via=\"read\"")).isGreaterThan(readBefore);
  }

  @Test
  void aRowOverTheSizeLimitGoesThroughTheGateAndArrivesFresh() {
    String runId = runAtStepZero("big");
    double readBefore = a.metric("freshet_changes_settled_total{via=\"read\"");
    double recordBefore = a.metric("freshet_changes_settled_total{via=\"record\"");
    String big = "x".repeat(20 * 1024); // over router.rowImageMaxBytes (16 KiB)
    try (FeedFollower feed = new FeedFollower(a.http, "/realtime/v1/runs/" + runId, false).ready()) {
      a.http.setMetadata(runId, new JsonObject().put("step", 1).put("big", big));
      FeedFollower.Delivery d = feed.await(x -> Integer.valueOf(1).equals(step(x)));
      assertThat(d).isNotNull();
      assertThat(d.metadata().getString("big")).isEqualTo(big);
      assertThat(steps(feed, runId)).containsExactly(0, 1);
    }
    assertThat(a.metric("freshet_changes_settled_total{via=\"read\"")).isGreaterThan(readBefore);
    assertThat(a.metric("freshet_changes_settled_total{via=\"record\"")).isEqualTo(recordBefore);
  }

  @Test
  void aLiveStreamReaderGetsEveryChunkOnceInOrderWhileTheReplicaAppliesNothingAndALateReaderGetsThemFromTheReplica()
      throws Exception {
    String runId = runAtStepZero("streams");
    assertThat(a.http.put("/realtime/v1/streams/" + runId + "/self/tokens", "").status()).isEqualTo(202);
    StreamsClusterTest.Reader live = new StreamsClusterTest.Reader(b.http, runId, "tokens").following();
    double fromAnnouncements = b.metric("freshet_stream_commits_settled_total{via=\"record\"");
    double delivered = b.metric("freshet_stream_chunks_delivered_total");
    PgRig.pauseReplay(); // nothing the writer appends can be read from the standby now
    try {
      HttpResponse<String> written = StreamsClusterTest.write(a.http, runId, "tokens", 100);
      assertThat(written.statusCode()).as(written.body()).isEqualTo(200);
      assertThat(live.ended.get(30, TimeUnit.SECONDS)).as("the whole stream, its end included, while the standby replays nothing")
          .isEqualTo(200);
    } finally {
      PgRig.resumeReplay();
    }
    assertThat(live.data).hasSize(100);
    for (int i = 0; i < 100; i++) {
      assertThat(new JsonObject(live.data.get(i)).getInteger("i")).as("chunk %d in order", i).isEqualTo(i);
    }
    assertThat(b.metric("freshet_stream_chunks_delivered_total") - delivered).as("each chunk pushed once on node B").isEqualTo(100);
    assertThat(b.metric("freshet_stream_commits_settled_total{via=\"record\"")).isGreaterThan(fromAnnouncements);

    StreamsClusterTest.Reader late = new StreamsClusterTest.Reader(a.http, runId, "tokens");
    assertThat(late.ended.get(30, TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(late.data).as("a reader that connects late reads the same chunks from the replica").isEqualTo(live.data);
    assertThat(late.ids).isEqualTo(live.ids);
  }
}
