package io.freshet.router.feeds;

import static io.freshet.router.feeds.RouterHarness.runFilter;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.push.PushProtocol;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A stopping router's hand-over of its logs, against a scripted cluster. */
class HandoversTest {

  private final RouterHarness h = new RouterHarness();

  /** Answers adoptions from a script (an adopter's address, or a failure), then with "router-b". */
  private static final class ScriptedCluster implements Handovers.Cluster {
    final Deque<Object> script = new ArrayDeque<>();
    final List<String> asked = new ArrayList<>();
    final Map<String, String> moves = new LinkedHashMap<>();
    final List<String> told = new ArrayList<>();

    @Override
    public Future<String> adopt(FeedProtocol.Handover handover) {
      asked.add(handover.handle());
      Object next = script.isEmpty() ? "router-b" : script.poll();
      return next instanceof RuntimeException e ? Future.failedFuture(e) : Future.succeededFuture((String) next);
    }

    @Override
    public Future<Void> recordMove(String handle, String router) {
      moves.put(handle, router);
      return Future.succeededFuture();
    }

    @Override
    public void tell(String sink, PushProtocol.Moved moved) {
      told.add(sink + " -> " + moved.log() + " at " + moved.owner());
    }
  }

  @Test
  void everyOpenLogMovesItsMoveIsRecordedItsSinksAreToldAndItLeavesThisRouter() {
    h.apply("r1", h.clock() - 100, "v0");
    h.apply("r2", h.clock() - 100, "w0");
    String first = h.open(runFilter("r1"), new RouterHarness.Replies());
    String second = h.open(runFilter("r2"), new RouterHarness.Replies());
    h.watch(first, 1, "sink-a", new RouterHarness.Replies());
    ScriptedCluster cluster = new ScriptedCluster();

    Handovers.Outcome result = new Handovers(h.feeds, cluster).handOverAll().result();

    assertThat(result).isEqualTo(new Handovers.Outcome(2, 2));
    assertThat(cluster.moves).containsOnlyKeys(first, second).containsValue("router-b");
    assertThat(cluster.told).containsExactly("sink-a -> " + first + " at router-b");
    assertThat(h.feeds.logs()).as("served by the adopter from now on").isZero();
  }

  @Test
  void aRefusedLogIsOfferedAgainAndOneNobodyCanAdoptStaysWithTheNode() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    ScriptedCluster refusing = new ScriptedCluster();
    refusing.script.add(new IllegalStateException("503: this node is stopping too"));
    refusing.script.add(new IllegalStateException("timed out"));

    assertThat(new Handovers(h.feeds, refusing).handOverAll().result()).isEqualTo(new Handovers.Outcome(1, 1));
    assertThat(refusing.asked).as("two refusals, then another router took it").containsExactly(handle, handle, handle);

    RouterHarness h2 = new RouterHarness();
    h2.apply("r1", h2.clock() - 100, "v0");
    h2.open(runFilter("r1"), new RouterHarness.Replies());
    ScriptedCluster alone = new ScriptedCluster();
    alone.script.add(new Handovers.NobodyAdopts());
    assertThat(new Handovers(h2.feeds, alone).handOverAll().result()).isEqualTo(new Handovers.Outcome(0, 1));
    assertThat(alone.asked).as("no other node: not asked again").hasSize(1);
    assertThat(alone.moves).isEmpty();
  }
}
