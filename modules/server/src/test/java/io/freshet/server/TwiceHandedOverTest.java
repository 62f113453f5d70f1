package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart moves a feed log more than once: the node that adopted it stops in its turn.
 * Three clustered nodes on the real rig: a log opened on A is followed through B and through C;
 * A stops and one of them adopts the log; that one stops too and the last node adopts it. The
 * followers on the last node go on with the same handle through both moves: no 409, no second
 * snapshot, every change, never backwards.
 */
@RigTest
class TwiceHandedOverTest {

  private static NodeFixture a;
  private static NodeFixture b;
  private static NodeFixture c;

  @BeforeAll
  static void start() {
    String name = "handover-twice-" + System.nanoTime();
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", name)
        .put("cluster.members", "127.0.0.1:5831,127.0.0.1:5832,127.0.0.1:5833");
    a = NodeFixture.start(cluster.copy().put("cluster.port", 5831));
    b = NodeFixture.join(a, cluster.copy().put("cluster.port", 5832));
    c = NodeFixture.join(a, cluster.copy().put("cluster.port", 5833));
  }

  @AfterAll
  static void stop() {
    c.close();
    b.close();
    a.close();
  }

  private static Integer step(FeedFollower.Delivery d) {
    return d.metadata() == null ? null : d.metadata().getInteger("step");
  }

  @Test
  void followersOfALogThatMovesTwiceGoOnWithTheirHandle() throws Exception {
    String runId = c.http.trigger("handover-twice", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    String path = "/realtime/v1/runs/" + runId;
    try (FeedFollower sseB = new FeedFollower(a.http, b.http, path, true).streamingReady();
        FeedFollower pollB = new FeedFollower(a.http, b.http, path, false);
        FeedFollower sseC = new FeedFollower(a.http, c.http, path, true).streamingReady();
        FeedFollower pollC = new FeedFollower(a.http, c.http, path, false)) {
      int step = 0;
      step = writeAndAwait(runId, step, List.of(sseB, pollB, sseC, pollC));
      String handle = sseB.handle;
      assertThat(handle).as("the log is A's").startsWith(a.node.nodeId());

      a.stopNode(); // its router hands the log to B's or C's
      step = writeAndAwait(runId, step, List.of(sseB, pollB, sseC, pollC));
      String adopter = c.node.vertx().sharedData().<String, String>getAsyncMap(NodeAddresses.MOVED_FEEDS_MAP)
          .compose(map -> map.get(handle)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(adopter).as("the map of moved feeds names the adopter").isNotNull();
      boolean bAdopted = adopter.contains(b.node.nodeId());
      assertThat(bAdopted || adopter.contains(c.node.nodeId())).as("adopted by B or C: " + adopter).isTrue();
      NodeFixture first = bAdopted ? b : c;
      NodeFixture last = bAdopted ? c : b;
      List<FeedFollower> onLast = bAdopted ? List.of(sseC, pollC) : List.of(sseB, pollB);
      List<Integer> sseBefore = List.copyOf(onLast.get(0).statuses);
      List<Integer> pollBefore = List.copyOf(onLast.get(1).statuses);

      first.stopNode(); // the adopter stops too: the log moves again, to the last node
      int last5 = step + 5;
      while (step < last5) {
        step++;
        last.http.setMetadata(runId, new JsonObject().put("step", step));
        FeedFollower.sleep(100);
      }
      int finalStep = step;
      for (FeedFollower feed : onLast) {
        assertThat(feed.await(d -> Integer.valueOf(finalStep).equals(step(d)))).as("every later change reaches the follower").isNotNull();
        assertThat(feed.of(runId).stream().map(TwiceHandedOverTest::step).toList()).as("never backwards").isSorted();
        assertThat(feed.handle).as("the same handle after two moves").isEqualTo(handle);
        assertThat(feed.of(runId).stream().filter(d -> "insert".equals(d.operation())).count()).as("no second snapshot").isEqualTo(1);
      }
      List<Integer> sseAfter = onLast.get(0).statuses.subList(sseBefore.size(), onLast.get(0).statuses.size());
      List<Integer> pollAfter = onLast.get(1).statuses.subList(pollBefore.size(), onLast.get(1).statuses.size());
      System.out.println("handed over twice (A, then " + (bAdopted ? "B" : "C") + "): statuses on the last node after the second stop: SSE "
          + sseAfter + ", long-poll " + pollAfter);
      assertThat(sseAfter).as("no 409 for the SSE follower").doesNotContain(409);
      assertThat(pollAfter).as("no 409 for the long-poll follower").doesNotContain(409);
    }
  }

  /** Writes five more steps through C, or B once C is gone, and waits until every follower has the last one. */
  private static int writeAndAwait(String runId, int from, List<FeedFollower> followers) {
    int step = from;
    for (int i = 0; i < 5; i++) {
      step++;
      c.http.setMetadata(runId, new JsonObject().put("step", step));
      FeedFollower.sleep(100);
    }
    int last = step;
    for (FeedFollower feed : followers) {
      assertThat(feed.await(d -> Integer.valueOf(last).equals(step(d)))).isNotNull();
    }
    return step;
  }
}
