package io.freshet.server;

import io.freshet.edge.CredentialLimits;
import io.freshet.edge.WebVerticle;
import io.freshet.core.FreshetConfig;
import io.freshet.core.time.Clock;
import io.freshet.lag.LagSamplerVerticle;
import io.freshet.core.bus.NodeCodecs;
import io.freshet.publisher.PublisherVerticle;
import io.freshet.router.engine.GateMode;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.router.feeds.RouterMetrics;
import io.freshet.router.RouterVerticle;
import io.freshet.router.streams.StreamMetrics;
import io.freshet.router.StreamRouterVerticle;
import io.freshet.store.Environments;
import io.freshet.store.Environments.Environment;
import io.freshet.store.Ids;
import io.freshet.store.Migrations;
import io.freshet.store.Pools;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Freshet node: a Vert.x instance (clustered when configured), its pools, the schema, and the
 * verticles of the flow: publisher → (event bus) → routers ← lag sampler, web edge in front.
 * It only wires; the verticles and their plain classes decide.
 */
public final class FreshetNode {

  private static final Logger log = LoggerFactory.getLogger(FreshetNode.class);

  private final Vertx vertx;
  private final String nodeId;
  private final FreshetConfig config;
  private final Pool primary;
  private final Pool replica;
  private final PrometheusMeterRegistry registry;
  private final List<String> deployments = new ArrayList<>();
  private Environment development;
  private int httpPort;

  private final java.util.function.BooleanSupplier heartbeatWriter;
  private final java.util.function.BooleanSupplier clusterJoined;

  private FreshetNode(Vertx vertx, String nodeId, FreshetConfig config, Pool primary, Pool replica, PrometheusMeterRegistry registry,
      java.util.function.BooleanSupplier heartbeatWriter, java.util.function.BooleanSupplier clusterJoined) {
    this.heartbeatWriter = heartbeatWriter;
    this.clusterJoined = clusterJoined;
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.config = config;
    this.primary = primary;
    this.replica = replica;
    this.registry = registry;
  }

  /** Builds Vert.x, migrates, ensures the development environment, deploys every verticle. */
  public static Future<FreshetNode> start(FreshetConfig config) {
    String nodeId = Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 8);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Vert.x's gauges kept per address (event-bus handlers and pending messages per bus address,
    // net-client connections and SQL statements in flight per remote), without the address label
    // (off by default: it would be one series per environment or peer), are one meter for every
    // address: each address after the first re-registers it, which logged a warning at every
    // start, and the meter then reports the first address's value only. They are left out; the
    // counters, and the pools' own meters (vertx_pool_*), stay.
    for (String lying : new String[] {"vertx.eventbus.handlers", "vertx.eventbus.pending", "vertx.net.client.active.connections",
        "vertx.sql.processing.pending"}) {
      registry.config().meterFilter(io.micrometer.core.instrument.config.MeterFilter.denyNameStartsWith(lying));
    }
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops(config)).setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true).setRegistryName("freshet-" + nodeId).setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    options.getEventBusOptions().setHost(config.get(FreshetConfig.CLUSTER_HOST)).setPort(0);
    VertxBuilder builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
    io.vertx.core.spi.cluster.ClusterManager cluster = config.get(FreshetConfig.CLUSTER_ENABLED) ? ClusterSetup.clusterManager(config) : null;
    Future<Vertx> built = cluster != null ? builder.withClusterManager(cluster).buildClustered() : Future.succeededFuture(builder.build());
    return built.compose(vertx -> {
      NodeCodecs.register(vertx);
      ClusterSetup.announceMembershipChanges(vertx, cluster);
      Pool primary = Pools.create(vertx, config.get(FreshetConfig.DB_PRIMARY_URI), config.getInt(FreshetConfig.DB_PRIMARY_POOL_SIZE), "primary");
      String replicaUri = config.get(FreshetConfig.DB_REPLICA_URI);
      Pool replica = replicaUri == null || replicaUri.isBlank() ? null
          : Pools.create(vertx, replicaUri, config.getInt(FreshetConfig.DB_REPLICA_POOL_SIZE), "replica");
      FreshetNode node = new FreshetNode(vertx, nodeId, config, primary, replica, registry, ClusterSetup.heartbeatWriter(cluster),
          () -> cluster == null || cluster.isActive());
      return node.deploy().map(node).recover(e -> vertx.close().transform(v -> Future.failedFuture(e)));
    });
  }

  /**
   * One event loop per verticle instance, at least Vert.x's default of two per core. Vert.x gives
   * each deployed instance the next loop round-robin, so with the default four loops on two cores a
   * router shared its loop with a web instance: while that instance wrote a push to 5,000 SSE
   * sessions (50 ms of CPU and more on a busy box), the router's gate timers waited behind it,
   * and the hot run's server-side p99 doubled (gate timers fired up to 300 ms late). On loops of
   * their own the kernel time-slices them instead, and a router's timer runs when it comes due.
   * The spare loops are for the contexts the pools and the cluster manager create.
   */
  static int eventLoops(FreshetConfig config) {
    int verticles = 4 + config.getInt(FreshetConfig.ROUTER_INSTANCES) + Math.max(1, config.getInt(FreshetConfig.HTTP_INSTANCES));
    return Math.max(2 * Runtime.getRuntime().availableProcessors(), verticles + 2);
  }

  private Future<Void> deploy() {
    GateMode configured = GateMode.parse(config.get(FreshetConfig.GATE_MODE));
    // No replica: feeds read the primary, so there is no lag to wait out.
    GateMode mode = replica == null ? GateMode.PRIMARY_READS : configured;
    JsonObject verticleConfig = config.with(new JsonObject().put(FreshetConfig.GATE_MODE.path(), mode.label())).toJson();
    Pool reads = mode == GateMode.PRIMARY_READS || replica == null ? primary : replica;
    RouterMetrics routerMetrics = new RouterMetrics(registry);
    // One budget for the node's routers: gate.primaryFallbackPerSec bounds what this node asks of the primary.
    PrimaryFallbackBudget budget = new PrimaryFallbackBudget(
        mode == GateMode.GATED ? config.getInt(FreshetConfig.GATE_PRIMARY_FALLBACK_PER_SEC) : 0, Clock.SYSTEM);
    int routers = config.getInt(FreshetConfig.ROUTER_INSTANCES);
    DeploymentOptions opts = new DeploymentOptions().setConfig(verticleConfig);
    return Migrations.apply(primary)
        .compose(n -> Environments.ensureDevelopment(primary)).onSuccess(env -> development = env)
        .compose(env -> track(vertx.deployVerticle(new LagSamplerVerticle(mode == GateMode.GATED ? replica : null, primary, heartbeatWriter, registry), opts)))
        .compose(v -> track(vertx.deployVerticle(new PublisherVerticle(primary), opts)))
        .compose(v -> track(vertx.deployVerticle(new io.freshet.edge.dashboard.StatsVerticle(nodeId, primary, replica, registry), opts)))
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < routers; i++) {
            int index = i;
            chain = chain.compose(x -> track(vertx.deployVerticle(new RouterVerticle(nodeId, index, reads, primary, routerMetrics, budget), opts)));
          }
          return chain;
        })
        .compose(v -> track(vertx.deployVerticle(new StreamRouterVerticle(reads, primary, new StreamMetrics(registry), budget), opts)))
        .compose(v -> {
          List<WebVerticle> webs = new ArrayList<>();
          int instances = Math.max(1, config.getInt(FreshetConfig.HTTP_INSTANCES));
          // One set of per-credential limits for the node, shared by its web edge instances.
          CredentialLimits limits = CredentialLimits.of(config, io.freshet.core.time.Clock.SYSTEM);
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < instances; i++) {
            WebVerticle web = new WebVerticle(nodeId, i, primary, replica, registry, limits, clusterJoined);
            webs.add(web);
            chain = chain.compose(x -> track(vertx.deployVerticle(web, opts)));
          }
          return chain.onSuccess(x -> httpPort = webs.get(0).actualPort());
        })
        .onSuccess(v -> log.info("node {} serving on port {} (gate {}, replica {})", nodeId, httpPort, mode.label(),
            replica == null ? "none" : "configured"));
  }

  private Future<Void> track(Future<String> deployment) {
    return deployment.onSuccess(deployments::add).mapEmpty();
  }

  /** Graceful: stop taking requests first, then the routers and the rest, then leave the cluster. */
  public Future<Void> stop() {
    // While the verticles undeploy, their consumers unregister with messages still on the way to
    // them: lag estimates this node's sampler publishes to its routers, heartbeats another node
    // publishes to every sampler. Vert.x drops those with a WARN ("Discarding message since the
    // consumer is not registered"); at an orderly stop that is by design (the node is leaving and
    // its feeds with it), so it is not a warning an operator should act on, and is kept out of the log.
    ch.qos.logback.classic.Logger discards =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");
    discards.setLevel(ch.qos.logback.classic.Level.ERROR);
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.compose(v -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
    }
    return chain.compose(v -> vertx.close());
  }

  public Vertx vertx() {
    return vertx;
  }

  public String nodeId() {
    return nodeId;
  }

  public int httpPort() {
    return httpPort;
  }

  public Environment development() {
    return development;
  }

  public Pool primary() {
    return primary;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }
}
