package io.freshet.lag;

import io.freshet.core.bus.NodeAddresses;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LagSamplerVerticleTest {

  private Vertx vertx;
  private SimpleMeterRegistry registry;
  private String deploymentId;

  @BeforeEach
  void deployWithoutReplica() throws Exception {
    vertx = Vertx.vertx();
    registry = new SimpleMeterRegistry();
    deploymentId = vertx.deployVerticle(new LagSamplerVerticle(null, null, () -> true, registry),
        new DeploymentOptions().setConfig(FreshetConfig.defaults().toJson())).await(10, SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, SECONDS);
  }

  private JsonObject ask(JsonObject body) throws Exception {
    Message<JsonObject> reply = vertx.eventBus().<JsonObject>request(NodeAddresses.lagEvidence(), body).await(5, SECONDS);
    return reply.body();
  }

  @Test
  void anObservationFloorsTheEstimateAboveTheReplicaLessZeroAndIsPublished() throws Exception {
    CompletableFuture<JsonObject> published = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>localConsumer(NodeAddresses.lagEstimate(), message -> {
      if (message.body().getLong("lagMs") == 120L) {
        published.complete(message.body());
      }
    }).completion().await(5, SECONDS);

    JsonObject reply = ask(new JsonObject().put("observedMs", 120));

    assertThat(reply).isEqualTo(new JsonObject().put("lagMs", 120L).put("source", "none"));
    assertThat(published.get(5, SECONDS)).isEqualTo(new JsonObject().put("lagMs", 120L).put("source", "none"));
    assertThat(registry.get("freshet.replica.lag.estimate").gauge().value()).isEqualTo(120.0);
    assertThat(registry.get("freshet.lag.samples").tag("result", "measured").counter().count()).isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void anEmptyRequestReportsZeroLagWithoutAReplica() throws Exception {
    JsonObject reply = ask(new JsonObject());

    assertThat(reply).isEqualTo(new JsonObject().put("lagMs", 0L).put("source", "none"));
  }

  @Test
  void aTouchStartsSamplingAndEachSampleIsCounted() throws Exception {
    CompletableFuture<JsonObject> published = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>localConsumer(NodeAddresses.lagEstimate(), message -> published.complete(message.body()))
        .completion().await(5, SECONDS);

    vertx.eventBus().send(NodeAddresses.lagTouch(), "feeds active");

    assertThat(published.get(5, SECONDS)).isEqualTo(new JsonObject().put("lagMs", 0L).put("source", "none"));
    assertThat(registry.get("freshet.lag.samples").tag("result", "measured").counter().count()).isGreaterThanOrEqualTo(1.0);
    assertThat(registry.get("freshet.replica.lag.estimate").gauge().getId().getBaseUnit()).isEqualTo("milliseconds");
  }

  @Test
  void rejectsAnObservationThatIsNotANumber() {
    assertThatThrownBy(() -> ask(new JsonObject().put("observedMs", "soon")))
        .isInstanceOf(ReplyException.class)
        .satisfies(e -> assertThat(((ReplyException) e).failureCode()).isEqualTo(400));
  }

  @Test
  void undeployRemovesTheMeters() throws Exception {
    vertx.undeploy(deploymentId).await(5, SECONDS);

    assertThat(registry.find("freshet.replica.lag.estimate").gauge()).isNull();
    assertThat(registry.find("freshet.lag.samples").counters()).isEmpty();
  }
}
