package io.freshet.server;

import io.freshet.core.bus.NodeAddresses;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.NetworkConfig;
import io.freshet.core.FreshetConfig;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Arrays;

/**
 * Hazelcast for the clustered event bus: members join over TCP, found through an explicit member
 * list or, under an orchestrator that knows no fixed list, Hazelcast's Kubernetes discovery (a DNS
 * lookup of a headless Service, or the Kubernetes API); never multicast (slow and unreliable on
 * laptops, CI and containers). The config keeps the maps Vert.x needs from its bundled default and
 * only changes networking, discovery and the name.
 */
final class ClusterSetup {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterSetup.class);

  private ClusterSetup() {}

  static HazelcastClusterManager clusterManager(FreshetConfig config) {
    // Vert.x takes the event-bus host from this property; keep it on the member's own address.
    System.setProperty("hazelcast.local.localAddress", config.get(FreshetConfig.CLUSTER_HOST));
    return new RefreshingClusterManager(hazelcastConfig(config));
  }

  /** The member's Hazelcast config; throws {@link IllegalArgumentException} for an unknown {@code cluster.discovery}. */
  static Config hazelcastConfig(FreshetConfig config) {
    String host = config.get(FreshetConfig.CLUSTER_HOST);
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(config.get(FreshetConfig.CLUSTER_NAME));
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "slf4j");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
    // Hazelcast's own JVM shutdown hook terminates the member at SIGTERM (policy TERMINATE), while
    // the node is still serving, so the others saw it as crashed ("suspected to be dead"). Main's
    // hook stops the node in order instead: web edge, routers, then a graceful leave.
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    // A member that was cut off (a long GC pause, a frozen VM, a network partition) and comes back
    // forms a cluster of its own; Hazelcast looks for such splits to merge only 300 s after start and
    // every 120 s after that. Until they merge, change records published on one side never reach
    // the other and its subscribers wait for the backstop poll. The check is a few TCP connects to
    // the member list: run it every few seconds.
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    // Hazelcast's own metrics (for its Management Center and JMX) are not exported here; their
    // map-stats collector also warned "replica has no owner" every second while partitions
    // migrated after a member left or rejoined, which is normal, not something to act on.
    hz.getMetricsConfig().setEnabled(false);
    NetworkConfig network = hz.getNetworkConfig();
    network.setPort(config.getInt(FreshetConfig.CLUSTER_PORT)).setPortAutoIncrement(true).setPortCount(20);
    network.getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(host));
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    String discovery = config.get(FreshetConfig.CLUSTER_DISCOVERY).trim().toLowerCase(java.util.Locale.ROOT);
    switch (discovery) {
      case "members" -> join.getTcpIpConfig().setEnabled(true).setMembers(Arrays.stream(config.get(FreshetConfig.CLUSTER_MEMBERS).split(","))
          .map(String::trim).filter(s -> !s.isEmpty()).toList());
      case "kubernetes" -> {
        join.getTcpIpConfig().setEnabled(false);
        KubernetesConfig kubernetes = join.getKubernetesConfig().setEnabled(true);
        String dns = config.get(FreshetConfig.CLUSTER_KUBERNETES_SERVICE_DNS).trim();
        if (!dns.isEmpty()) {
          kubernetes.setProperty("service-dns", dns);
          kubernetes.setProperty("service-port", Integer.toString(config.getInt(FreshetConfig.CLUSTER_PORT)));
        } else {
          setIfPresent(kubernetes, "namespace", config.get(FreshetConfig.CLUSTER_KUBERNETES_NAMESPACE));
          setIfPresent(kubernetes, "service-name", config.get(FreshetConfig.CLUSTER_KUBERNETES_SERVICE_NAME));
        }
      }
      default -> throw new IllegalArgumentException("cluster.discovery must be members or kubernetes, not '"
          + config.get(FreshetConfig.CLUSTER_DISCOVERY) + "'");
    }
    return hz;
  }

  private static void setIfPresent(KubernetesConfig kubernetes, String property, String value) {
    if (value != null && !value.trim().isEmpty()) {
      kubernetes.setProperty(property, value.trim());
    }
  }

  /**
   * After a membership change, when the bus's cached consumers are read again from the cluster's
   * map ({@link RefreshingClusterManager}): by then a member that merged back has re-registered its
   * consumers, whatever entry events went missing on the way.
   */
  static final long[] REFRESH_AFTER_MS = {1_000, 3_000, 10_000, 30_000};

  /**
   * Publishes {@link io.freshet.core.bus.NodeAddresses#membershipChanged()} on this node whenever a
   * member joins or leaves the cluster or this node merges back into it, so that routers re-read
   * their feeds (records published across the change may be lost), and refreshes the bus's cached
   * consumers at {@link #REFRESH_AFTER_MS}. Hazelcast calls these listeners on its own threads;
   * the event bus and the timers take them from any thread.
   */
  static void announceMembershipChanges(io.vertx.core.Vertx vertx, io.vertx.core.spi.cluster.ClusterManager cluster) {
    if (!(cluster instanceof HazelcastClusterManager hazelcast)) {
      return;
    }
    io.vertx.core.eventbus.DeliveryOptions local = new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true);
    java.util.function.Consumer<String> announce = reason -> {
      LOG.info("cluster membership changed ({}): {} members; feed logs with subscribers are read again", reason,
          hazelcast.getHazelcastInstance().getCluster().getMembers().size());
      vertx.eventBus().publish(io.freshet.core.bus.NodeAddresses.membershipChanged(), new io.freshet.core.bus.MembershipChanged(reason), local);
      if (hazelcast instanceof RefreshingClusterManager refreshing) {
        for (long afterMs : REFRESH_AFTER_MS) {
          vertx.setTimer(afterMs, t -> refreshing.refreshRegistrations()
              .onSuccess(n -> LOG.debug("re-read the consumers of {} addresses after a membership change", n))
              .onFailure(e -> LOG.warn("could not re-read the cluster's consumers after a membership change: {}", e.toString())));
        }
      }
    };
    hazelcast.getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
      @Override
      public void memberAdded(com.hazelcast.cluster.MembershipEvent event) {
        announce.accept("member added");
      }

      @Override
      public void memberRemoved(com.hazelcast.cluster.MembershipEvent event) {
        announce.accept("member removed");
      }
    });
    hazelcast.getHazelcastInstance().getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED) {
        announce.accept("merged");
      }
    });
  }

  /**
   * Whether this node writes the replica-lag heartbeat: the member with the smallest node id, as
   * every member's view of the cluster agrees; a node alone (not clustered) always does. Two
   * writers for a moment (a membership change) only cost a few writes.
   */
  static java.util.function.BooleanSupplier heartbeatWriter(io.vertx.core.spi.cluster.ClusterManager cluster) {
    if (cluster == null) {
      return () -> true;
    }
    return () -> {
      java.util.List<String> nodes = cluster.getNodes();
      String self = cluster.getNodeId();
      return nodes.isEmpty() || self.equals(java.util.Collections.min(nodes));
    };
  }
}
