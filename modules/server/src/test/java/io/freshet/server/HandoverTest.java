package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node that stops gracefully hands its feed logs to the others: clients that follow a log it
 * owned, through another node, go on with the same handle and offset (no 409, no refetch, no
 * snapshot again), and get every later change. Two clustered nodes on the real rig.
 */
@RigTest
class HandoverTest {

  private static NodeFixture a;
  private static NodeFixture b;

  @BeforeAll
  static void start() {
    String name = "handover-" + System.nanoTime();
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", name)
        .put("cluster.members", "127.0.0.1:5821,127.0.0.1:5822");
    a = NodeFixture.start(cluster.copy().put("cluster.port", 5821));
    b = NodeFixture.join(a, cluster.copy().put("cluster.port", 5822));
  }

  @AfterAll
  static void stop() {
    b.close();
    a.close();
  }

  private static Integer step(FeedFollower.Delivery d) {
    return d.metadata() == null ? null : d.metadata().getInteger("step");
  }

  @Test
  void followersOfALogOwnedByAStoppingNodeGoOnWithTheirHandleAtTheNewOwner() {
    String runId = b.http.trigger("handover", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    String path = "/realtime/v1/runs/" + runId;
    try (FeedFollower sse = new FeedFollower(a.http, b.http, path, true).streamingReady();
        FeedFollower poll = new FeedFollower(a.http, b.http, path, false)) {
      for (int s = 1; s <= 5; s++) {
        b.http.setMetadata(runId, new JsonObject().put("step", s));
      }
      for (FeedFollower feed : List.of(sse, poll)) {
        assertThat(feed.await(d -> Integer.valueOf(5).equals(step(d)))).isNotNull();
      }
      String handle = sse.handle;
      assertThat(handle).as("the log is A's").startsWith(a.node.nodeId());
      int sseStatuses = sse.statuses.size();
      int pollStatuses = poll.statuses.size();

      a.stopNode(); // graceful: its routers hand their logs to B first

      for (int s = 6; s <= 10; s++) {
        b.http.setMetadata(runId, new JsonObject().put("step", s));
        FeedFollower.sleep(100);
      }
      for (FeedFollower feed : List.of(sse, poll)) {
        assertThat(feed.await(d -> Integer.valueOf(10).equals(step(d)))).as("every later change reaches the follower").isNotNull();
        assertThat(feed.of(runId).stream().map(HandoverTest::step).toList()).as("never backwards").isSorted();
      }
      List<Integer> sseAfter = sse.statuses.subList(sseStatuses, sse.statuses.size());
      List<Integer> pollAfter = poll.statuses.subList(pollStatuses, poll.statuses.size());
      System.out.println("handover: SSE statuses after the stop " + sseAfter + ", long-poll " + pollAfter);
      assertThat(sseAfter).as("the SSE follower reconnects with its handle, no 409").doesNotContain(409);
      assertThat(pollAfter).as("the long-poll follower polls on with its handle, no 409").doesNotContain(409);
      assertThat(sse.handle).as("same handle").isEqualTo(handle);
      assertThat(poll.handle).isEqualTo(handle);
      assertThat(sse.of(runId).stream().filter(d -> "insert".equals(d.operation())).count())
          .as("no second snapshot").isEqualTo(1);
    }
  }
}
