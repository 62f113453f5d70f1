package io.freshet.lag;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetConfig;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.bus.NodeCodecs;
import io.freshet.core.lag.Estimate;
import io.freshet.core.lag.Evidence;
import io.freshet.core.lag.LagState;
import io.freshet.core.lag.Touch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
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
    NodeCodecs.register(vertx);
    registry = new SimpleMeterRegistry();
    deploymentId = vertx.deployVerticle(new LagSamplerVerticle(java.util.List.of(), null, () -> true, registry),
        new DeploymentOptions().setConfig(FreshetConfig.defaults().toJson())).await(10, SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, SECONDS);
  }

  private Estimate ask(Evidence evidence) throws Exception {
    return vertx.eventBus().<Estimate>request(NodeAddresses.lagEvidence(), evidence).await(5, SECONDS).body();
  }

  @Test
  void anObservationFloorsTheEstimateAboveTheReplicaLessZeroAndIsPublished() throws Exception {
    CompletableFuture<Estimate> published = new CompletableFuture<>();
    vertx.eventBus().<Estimate>localConsumer(NodeAddresses.lagEstimate(), message -> {
      if (message.body().lagMs() == 120L) {
        published.complete(message.body());
      }
    }).completion().await(5, SECONDS);

    Estimate reply = ask(new Evidence.Observed(0, 120));

    assertThat(reply).isEqualTo(new Estimate(0, 120, "none"));
    assertThat(published.get(5, SECONDS)).isEqualTo(new Estimate(0, 120, "none"));
    assertThat(registry.get("freshet.replica.lag.estimate").gauge().value()).isEqualTo(120.0);
    assertThat(registry.get("freshet.lag.samples").tag("result", "measured").counter().count()).isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void anEmptyRequestReportsZeroLagWithoutAReplica() throws Exception {
    Estimate reply = ask(new Evidence.Ask());

    assertThat(reply).isEqualTo(new Estimate(0, 0, "none"));
  }

  @Test
  void aTouchStartsSamplingAndEachSampleIsCounted() throws Exception {
    CompletableFuture<Estimate> published = new CompletableFuture<>();
    vertx.eventBus().<Estimate>localConsumer(NodeAddresses.lagEstimate(), message -> published.complete(message.body()))
        .completion().await(5, SECONDS);

    vertx.eventBus().send(NodeAddresses.lagTouch(), new Touch());

    assertThat(published.get(5, SECONDS)).isEqualTo(new Estimate(0, 0, "none"));
    assertThat(registry.get("freshet.lag.samples").tag("result", "measured").counter().count()).isGreaterThanOrEqualTo(1.0);
    assertThat(registry.get("freshet.replica.lag.estimate").gauge().getId().getBaseUnit()).isEqualTo("milliseconds");
  }

  @Test
  void answersTheStateHealthReportsWithoutAReplica() throws Exception {
    ask(new Evidence.Observed(0, 70));

    LagState state = vertx.eventBus().<LagState>request(NodeAddresses.lagState(), null).await(5, SECONDS).body();

    assertThat(state).isEqualTo(new LagState(70, "none", true, null, null, java.util.List.of()));
  }

  @Test
  void rejectsAnObservationThatIsNotTypedEvidence() {
    assertThatThrownBy(() -> vertx.eventBus().request(NodeAddresses.lagEvidence(), new JsonObject().put("observedMs", "soon"))
        .await(5, SECONDS))
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
