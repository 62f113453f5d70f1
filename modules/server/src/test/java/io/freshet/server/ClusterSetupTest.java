package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.freshet.core.FreshetConfig;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Hazelcast config each way of finding members produces. Kubernetes discovery cannot run here
 * (no cluster), so what is checked is the join config a node would start with, including the one
 * the example manifest's environment gives it.
 */
class ClusterSetupTest {

  private static JoinConfig join(JsonObject overrides) {
    Config hz = ClusterSetup.hazelcastConfig(FreshetConfig.defaults().with(overrides));
    return hz.getNetworkConfig().getJoin();
  }

  @Test
  void byDefaultMembersJoinOverTcpToTheListAndNothingElse() {
    JoinConfig join = join(new JsonObject().put("cluster.members", "10.0.0.1:5701, 10.0.0.2:5701"));
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
  }

  @Test
  void kubernetesDiscoveryLooksUpTheHeadlessServiceInsteadOfAList() {
    JoinConfig join = join(new JsonObject().put("cluster.discovery", "kubernetes").put("cluster.port", 5701)
        .put("cluster.kubernetes.serviceDns", "freshet-cluster.prod.svc.cluster.local"));
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperties())
        .containsEntry("service-dns", "freshet-cluster.prod.svc.cluster.local").containsEntry("service-port", "5701")
        .doesNotContainKey("service-name");
  }

  @Test
  void withoutAServiceNameInDnsKubernetesDiscoveryAsksTheApi() {
    JoinConfig join = join(new JsonObject().put("cluster.discovery", "Kubernetes")
        .put("cluster.kubernetes.namespace", "prod").put("cluster.kubernetes.serviceName", "freshet-cluster"));
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperties()).containsEntry("namespace", "prod")
        .containsEntry("service-name", "freshet-cluster").doesNotContainKey("service-dns");
  }

  @Test
  void anUnknownDiscoveryIsRefusedByName() {
    assertThatThrownBy(() -> join(new JsonObject().put("cluster.discovery", "multicast")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster.discovery must be members or kubernetes, not 'multicast'");
  }

  /**
   * The example manifest's container environment, as a node resolves it: clustered, Kubernetes
   * discovery through the headless Service of the same manifest, bound to the pod's IP.
   */
  @Test
  void theExampleManifestConfiguresKubernetesDiscoveryThroughItsHeadlessService() throws Exception {
    String manifest = Files.readString(Path.of("../../deploy/kubernetes/freshet.yaml"));
    Map<String, String> env = new HashMap<>();
    Matcher literal = Pattern.compile("- \\{name: (FRESHET_[A-Z_]+), value: \"([^\"]*)\"}").matcher(manifest);
    while (literal.find()) {
      env.put(literal.group(1), literal.group(2).replace("$(POD_NAMESPACE)", "prod"));
    }
    env.put("FRESHET_CLUSTER_HOST", "10.1.2.3"); // from the downward API (status.podIP)
    assertThat(env).containsKeys("FRESHET_CLUSTER_ENABLED", "FRESHET_CLUSTER_DISCOVERY", "FRESHET_CLUSTER_KUBERNETES_SERVICE_DNS");
    assertThat(manifest).contains("name: freshet-cluster").contains("clusterIP: None").contains("publishNotReadyAddresses: true")
        .contains("path: /health/ready").contains("path: /health/live").contains("fieldPath: status.podIP");

    FreshetConfig config = FreshetConfig.resolve(new JsonObject(), env, new JsonObject());
    assertThat(config.get(FreshetConfig.CLUSTER_ENABLED)).isTrue();
    Config hz = ClusterSetup.hazelcastConfig(config);
    JoinConfig join = hz.getNetworkConfig().getJoin();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperties()).containsEntry("service-dns", "freshet-cluster.prod.svc.cluster.local")
        .containsEntry("service-port", "5701");
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(hz.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.1.2.3");
    assertThat(hz.getClusterName()).isEqualTo("freshet");
  }
}
