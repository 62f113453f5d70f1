package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.example.ProducerExample;
import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.Pools;
import io.freshet.store.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Another Vert.x app, clustered with a Freshet node, writes a run itself and publishes the change
 * record with the producer library: the node's subscribers get the new content, gated on the
 * watermark the app took from its own write.
 */
@RigTest
class ProducerLibraryTest {

  @Test
  void aRecordPublishedByAnotherClusteredAppReachesSubscribersWithCurrentContent() {
    NodeFixture.applyDelay(150);
    String cluster = "freshet-producer-" + UUID.randomUUID();
    try (NodeFixture f = NodeFixture.start(new JsonObject().put("cluster.enabled", true).put("cluster.name", cluster)
        .put("cluster.port", 5821).put("cluster.members", "127.0.0.1:5821,127.0.0.1:5822"))) {
      String runId = f.http.trigger("external", new JsonObject().put("metadata", new JsonObject().put("progress", 0)));
      f.db.awaitReplicaCaughtUp();
      Vertx app = Await.result(ProducerExample.joinCluster(cluster, "127.0.0.1:5821,127.0.0.1:5822", 5822), 60);
      Pool primary = Pools.create(app, f.db.primaryUri(), 2, "example-app");
      try (FeedFollower feed = new FeedFollower(f.http, "/realtime/v1/runs/" + runId, false).ready()) {
        ChangeRecord record = Await.result(ProducerExample.updateMetadata(primary, ChangePublisher.create(app), runId,
            new JsonObject().put("progress", 42)), 30);
        assertThat(record.hasWatermark()).isTrue();
        FeedFollower.Delivery d = feed.await(x -> x.metadata() != null && x.metadata().getInteger("progress") == 42);
        assertThat(d).as("the app's change reaches the node's subscriber").isNotNull();
        assertThat(feed.of(runId).stream().map(x -> x.metadata().getInteger("progress")).toList()).containsExactly(0, 42);
      } finally {
        Await.result(app.close(), 30);
      }
    }
  }
}
