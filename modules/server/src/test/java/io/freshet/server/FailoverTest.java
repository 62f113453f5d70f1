package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.freshet.store.testing.ScratchRig;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A primary failover under writes, on a rig of its own (a primary and one standby 100 ms behind):
 * the primary is stopped and the standby promoted with {@code pg_promote()}. With both hosts in
 * {@code db.primary.uris}, writes answer 503 with {@code retry-after} during the switch (never a
 * 500), succeed afterwards without a restart, every subscriber gets the final value, and the stored
 * row is what the last acknowledged write wrote.
 */
@RigTest
class FailoverTest {

  private static ScratchRig rig;
  private static NodeFixture node;

  @BeforeAll
  static void start() {
    rig = new ScratchRig("pg-failover", 15472, 100).start();
    node = NodeFixture.onRig(rig.primaryUri(), List.of(rig.replicaUri(1)), new JsonObject()
        .put("db.primary.uris", rig.primaryUri() + "," + rig.replicaUri(1)));
  }

  @AfterAll
  static void stop() {
    try {
      if (node != null) {
        node.close();
      }
    } finally {
      rig.close();
    }
  }

  private static Integer step(FeedFollower.Delivery d) {
    return d.metadata() == null ? null : d.metadata().getInteger("step");
  }

  @Test
  void writesGetA503DuringTheSwitchAndResumeOnThePromotedStandbyWithNoFeedGoingBackwards() throws Exception {
    String runId = node.http.trigger("failover", new JsonObject().put("metadata", new JsonObject().put("step", 0)));
    Map<Integer, Integer> statusOf = new ConcurrentHashMap<>();
    List<String> retryAfter = new ArrayList<>();
    int[] acknowledged = {0};
    long[] switchedAt = {0, 0};
    try (FeedFollower sse = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, true).streamingReady();
        FeedFollower poll = new FeedFollower(node.http, "/realtime/v1/runs/" + runId, false)) {
      Thread writer = new Thread(() -> {
        for (int s = 1; s <= 200; s++) {
          Http.Response r = node.http.put("/api/v1/runs/" + runId + "/metadata",
              new JsonObject().put("metadata", new JsonObject().put("step", s)).encode());
          statusOf.put(s, r.status());
          if (r.status() == 200) {
            acknowledged[0] = s;
          } else if (r.status() == 503) {
            synchronized (retryAfter) {
              retryAfter.add(r.header("retry-after"));
            }
          }
          FeedFollower.sleep(50);
        }
      }, "failover-writer");
      writer.start();
      FeedFollower.sleep(2000);
      switchedAt[0] = System.currentTimeMillis();
      rig.primary("stop");
      FeedFollower.sleep(1000);
      rig.promote(1);
      switchedAt[1] = System.currentTimeMillis();
      writer.join(60_000);

      TreeMap<Integer, Integer> statuses = new TreeMap<>(statusOf);
      long refused = statuses.values().stream().filter(st -> st == 503).count();
      int firstAfter = statuses.entrySet().stream().filter(e -> e.getValue() == 503).mapToInt(Map.Entry::getKey).max().orElse(0) + 1;
      System.out.println("failover: " + statuses.size() + " writes, " + refused + " answered 503 during the switch (retry-after "
          + retryAfter.stream().distinct().toList() + "), other statuses "
          + statuses.values().stream().filter(st -> st != 200 && st != 503).toList() + "; primary stopped to promoted "
          + (switchedAt[1] - switchedAt[0]) + " ms; writes succeed again from step " + firstAfter);
      assertThat(statuses.values()).as("every write is acknowledged or refused with 503, never a 500").allMatch(st -> st == 200 || st == 503);
      assertThat(refused).as("the switch was seen").isPositive();
      assertThat(retryAfter).as("a 503 says when to retry").allMatch(h -> h != null && !h.isBlank());
      assertThat(statuses.tailMap(firstAfter).values()).as("after the switch every write succeeds, without a restart")
          .isNotEmpty().allMatch(st -> st == 200);
      assertThat(acknowledged[0]).isEqualTo(200);

      for (FeedFollower feed : List.of(sse, poll)) {
        assertThat(feed.await(d -> Integer.valueOf(200).equals(step(d)))).as("the final value reaches every subscriber").isNotNull();
        assertThat(feed.of(runId).stream().map(FailoverTest::step).toList()).as("no feed goes backwards").isSorted();
      }
      JsonObject stored = node.http.get("/api/v3/runs/" + runId).json();
      Object metadata = stored.getValue("metadata");
      JsonObject storedMetadata = metadata instanceof JsonObject o ? o : new JsonObject(String.valueOf(metadata));
      assertThat(storedMetadata.getInteger("step")).as("the stored row is the last acknowledged write").isEqualTo(200);
      assertThat(node.metric("freshet_primary_switches_total")).isGreaterThanOrEqualTo(1);
    }
  }
}
