package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two real Hazelcast members on loopback. The bus of one is made to believe an address is
 * consumed only by a node that is gone, as it stays when Hazelcast's entry event for the real
 * consumer's registration goes missing (a member merging back): its publishes then reach nobody,
 * until the registrations are read again from the cluster's map.
 */
class RefreshingClusterManagerTest {

  private static final String ADDRESS = "test.refresh";

  private Vertx a;
  private Vertx b;

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Vertx member(RefreshingClusterManager manager) throws Exception {
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1").setPort(0);
    return await(Vertx.builder().with(options).withClusterManager(manager).buildClustered());
  }

  @AfterEach
  void stop() throws Exception {
    if (a != null) {
      await(a.close());
    }
    if (b != null) {
      await(b.close());
    }
  }

  @Test
  void aStaleListOfConsumersIsReadAgainFromTheClustersMap() throws Exception {
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", "refresh-" + System.nanoTime())
        .put("cluster.members", "127.0.0.1:5841,127.0.0.1:5842");
    RefreshingClusterManager managerA = (RefreshingClusterManager) ClusterSetup.clusterManager(
        FreshetConfig.defaults().with(cluster.copy().put("cluster.port", 5841)));
    a = member(managerA);
    b = member((RefreshingClusterManager) ClusterSetup.clusterManager(FreshetConfig.defaults().with(cluster.copy().put("cluster.port", 5842))));
    LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
    await(b.eventBus().<String>consumer(ADDRESS, m -> received.add(m.body())).completion());

    String first = null;
    for (int i = 0; i < 100 && first == null; i++) { // until A's bus has heard of B's consumer
      a.eventBus().publish(ADDRESS, "m" + i, new DeliveryOptions());
      first = received.poll(100, TimeUnit.MILLISECONDS);
    }
    assertThat(first).as("A reaches B's consumer").isNotNull();
    while (received.poll(300, TimeUnit.MILLISECONDS) != null) {
      // the publishes of the warm-up that are still on their way, and any update still in flight
    }

    managerA.busListener().registrationsUpdated(new RegistrationUpdateEvent(ADDRESS, List.of(new RegistrationInfo("gone-node", 1, false))));
    a.eventBus().publish(ADDRESS, "lost");
    assertThat(received.poll(500, TimeUnit.MILLISECONDS)).as("A believes the consumer is on a node that is gone").isNull();

    assertThat(await(managerA.refreshRegistrations())).as("addresses A's bus had cached").isGreaterThanOrEqualTo(1);
    a.eventBus().publish(ADDRESS, "after");
    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("after");
  }
}
