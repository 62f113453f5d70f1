package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.server.FreshetNode.Placed;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node at its default settings keeps its routers, stream router and lag sampler off the web
 * instances' event loops (FreshetNode's deployment order): behind a push to thousands of SSE
 * sessions their timers fire hundreds of ms late.
 */
@RigTest
class EventLoopPlacementTest {

  @Test
  void noLatencyCriticalVerticleSharesAWebInstancesLoopAtTheDefaults() {
    try (NodeFixture f = NodeFixture.start(new JsonObject())) {
      List<Placed> placed = f.node.placement();

      assertThat(placed).extracting(Placed::verticle)
          .contains("RouterVerticle", "StreamRouterVerticle", "LagSamplerVerticle", "WebVerticle");
      assertThat(FreshetNode.behindWebInstances(placed)).as("placement %s", placed).isEmpty();
    }
  }

  @Test
  void aRouterOnAWebInstancesLoopIsFound() {
    List<Placed> placed = List.of(new Placed("RouterVerticle", 0), new Placed("StatsVerticle", 1), new Placed("WebVerticle", 0),
        new Placed("WebVerticle", 1), new Placed("LagSamplerVerticle", 2));

    assertThat(FreshetNode.behindWebInstances(placed)).containsExactly(new Placed("RouterVerticle", 0));
  }
}
