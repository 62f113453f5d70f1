package io.freshet.server;

import io.freshet.edge.CredentialLimits;
import io.freshet.edge.WebVerticle;
import io.freshet.core.FreshetConfig;
import io.freshet.core.time.Clock;
import io.freshet.lag.AuroraRows;
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
import io.freshet.store.PrimaryLocator;
import io.freshet.store.ReplicaPool;
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
 *
 * <p><b>Which verticles share an event loop.</b> Vert.x gives each deployed instance the next of
 * its event loops, round-robin (two loops per core by default), so the deployment order decides
 * who shares: on two cores, instance <i>i</i> shares with <i>i</i> + 4. A web instance writing one
 * push to 5,000 SSE sessions holds its loop for 50 ms of CPU and more, and whatever shares it
 * waits. Measured in the bench (2026-12-06): a router there fired its gate timers up to 300 ms
 * late (hot run server-side p99 483–902 ms against 186–302 ms); the lag sampler there inflated the
 * estimate every router waits out (p99 1,040 ms); the stream router there stalled streams (many
 * streams p99 9.6 s). One loop per verticle fixes the first two but costs streams a thread hop per
 * stage on a saturated box (many streams server p99 1.9–3.3 s against 0.6–1.1 s). So the order
 * puts the web instances last, beside the dashboard's stats and the publisher (a commit's reply
 * waits a little; its watermark does not move), and the routers, the lag sampler and the stream
 * router on loops of their own pair. The log line "verticles on event loops" shows the placement
 * at every start, and a WARN says when a latency-critical verticle shares a web instance's loop
 * (other core counts or instance settings).
 */
public final class FreshetNode {

  private static final Logger log = LoggerFactory.getLogger(FreshetNode.class);

  private final Vertx vertx;
  private final String nodeId;
  private final FreshetConfig config;
  private final Pool primary;
  private final List<ReplicaPool> replicas;
  private final Pool replica;
  private final PrometheusMeterRegistry registry;
  private final List<String> deployments = new ArrayList<>();
  /** The web edge instances' deployments (the last ones): a stop ends them before the routers hand their logs over. */
  private final List<String> webDeployments = new ArrayList<>();
  /** Set when a clustered node starts stopping: its web edge closes connections unanswered, for the balancer to retry elsewhere. */
  private final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
  private Environment development;
  private int httpPort;

  private final java.util.function.BooleanSupplier heartbeatWriter;
  private final java.util.function.BooleanSupplier clusterJoined;

  private FreshetNode(Vertx vertx, String nodeId, FreshetConfig config, Pool primary, List<ReplicaPool> replicas, PrometheusMeterRegistry registry,
      java.util.function.BooleanSupplier heartbeatWriter, java.util.function.BooleanSupplier clusterJoined) {
    this.heartbeatWriter = heartbeatWriter;
    this.clusterJoined = clusterJoined;
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.config = config;
    this.primary = primary;
    this.replicas = replicas;
    // /health and the dashboard check the first replica's connection; each replica's lag and rotation come from the sampler.
    this.replica = replicas.isEmpty() ? null : replicas.get(0).pool();
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
    VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true).setRegistryName("freshet-" + nodeId).setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    options.getEventBusOptions().setHost(config.get(FreshetConfig.CLUSTER_HOST)).setPort(0);
    VertxBuilder builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
    io.vertx.core.spi.cluster.ClusterManager cluster = config.get(FreshetConfig.CLUSTER_ENABLED) ? ClusterSetup.clusterManager(config) : null;
    Future<Vertx> built = cluster != null ? builder.withClusterManager(cluster).buildClustered() : Future.succeededFuture(builder.build());
    return built.compose(vertx -> {
      NodeCodecs.register(vertx);
      ClusterSetup.announceMembershipChanges(vertx, cluster);
      List<String> primaryUris = config.primaryUris();
      int primaryPoolSize = config.getInt(FreshetConfig.DB_PRIMARY_POOL_SIZE);
      Pool primary;
      if (primaryUris.size() > 1) {
        PrimaryLocator locator = new PrimaryLocator(vertx, primaryUris);
        io.micrometer.core.instrument.FunctionCounter.builder("freshet.primary.switches", locator, PrimaryLocator::switches)
            .description("Times the primary moved to another host of db.primary.uris (a failover)").register(registry);
        primary = Pools.located(vertx, locator, primaryPoolSize, "primary");
      } else {
        primary = Pools.primary(vertx, primaryUris, primaryPoolSize, "primary");
      }
      List<ReplicaPool> replicas = ReplicaPool.open(vertx, config.replicaUris(), config.getInt(FreshetConfig.DB_REPLICA_POOL_SIZE));
      FreshetNode node = new FreshetNode(vertx, nodeId, config, primary, replicas, registry, ClusterSetup.heartbeatWriter(cluster),
          () -> cluster == null || cluster.isActive());
      return node.deploy().map(node).recover(e -> {
        log.error("node {} failed to start; closing", nodeId, e);
        return vertx.close().transform(v -> Future.failedFuture(e));
      });
    });
  }

  private Future<Void> deploy() {
    GateMode configured = GateMode.parse(config.get(FreshetConfig.GATE_MODE));
    String gateOn = config.get(FreshetConfig.GATE_REPLICAS);
    if (!gateOn.equals("fastest") && !gateOn.equals("worst")) {
      return Future.failedFuture(new IllegalArgumentException("gate.replicas must be fastest or worst, not " + gateOn));
    }
    try {
      AuroraRows.parse(config.get(FreshetConfig.LAG_AURORA_ROWS));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    // No replica: feeds read the primary, so there is no lag to wait out.
    GateMode mode = replica == null ? GateMode.PRIMARY_READS : configured;
    JsonObject verticleConfig = config.with(new JsonObject().put(FreshetConfig.GATE_MODE.path(), mode.label())).toJson();
    List<Pool> reads = mode == GateMode.PRIMARY_READS || replica == null ? List.of(primary)
        : replicas.stream().map(ReplicaPool::pool).toList();
    boolean readsPrimary = mode == GateMode.PRIMARY_READS || replica == null;
    RouterMetrics routerMetrics = readsPrimary ? new RouterMetrics(registry).readSideIsPrimary() : new RouterMetrics(registry);
    StreamMetrics streamMetrics = readsPrimary ? new StreamMetrics(registry).readSideIsPrimary() : new StreamMetrics(registry);
    // One budget for the node's routers: gate.primaryFallbackPerSec bounds what this node asks of the primary.
    PrimaryFallbackBudget budget = new PrimaryFallbackBudget(
        mode == GateMode.GATED ? config.getInt(FreshetConfig.GATE_PRIMARY_FALLBACK_PER_SEC) : 0, Clock.SYSTEM);
    int routers = config.getInt(FreshetConfig.ROUTER_INSTANCES);
    DeploymentOptions opts = new DeploymentOptions().setConfig(verticleConfig);
    return Migrations.apply(primary)
        .compose(n -> Environments.ensureDevelopment(primary)).onSuccess(env -> development = env)
        // The order places the verticles on event loops; see the class comment.
        .compose(env -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < routers; i++) {
            int index = i;
            chain = chain.compose(x -> track(vertx.deployVerticle(new RouterVerticle(nodeId, index, reads, primary, routerMetrics, budget), opts)));
          }
          return chain;
        })
        .compose(v -> track(vertx.deployVerticle(new io.freshet.edge.dashboard.StatsVerticle(nodeId, primary, replica, registry), opts)))
        .compose(v -> track(vertx.deployVerticle(new PublisherVerticle(primary), opts)))
        .compose(v -> track(vertx.deployVerticle(new LagSamplerVerticle(mode == GateMode.GATED ? replicas : List.of(), primary, heartbeatWriter, registry), opts)))
        .compose(v -> track(vertx.deployVerticle(new StreamRouterVerticle(reads, primary, streamMetrics, budget), opts)))
        .compose(v -> {
          List<WebVerticle> webs = new ArrayList<>();
          int instances = Math.max(1, config.getInt(FreshetConfig.HTTP_INSTANCES));
          // One set of per-credential limits for the node, shared by its web edge instances.
          CredentialLimits limits = CredentialLimits.of(config, io.freshet.core.time.Clock.SYSTEM);
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < instances; i++) {
            WebVerticle web = new WebVerticle(nodeId, i, primary, replica, registry, limits, clusterJoined, stopping::get);
            webs.add(web);
            chain = chain.compose(x -> track(vertx.deployVerticle(web, opts)).onSuccess(deployed -> webDeployments.add(deployments.get(deployments.size() - 1))));
          }
          return chain.onSuccess(x -> httpPort = webs.get(0).actualPort());
        })
        .onSuccess(v -> logPlacement())
        .onSuccess(v -> log.info("node {} serving on port {} (gate {}, {})", nodeId, httpPort, mode.label(), replicas.isEmpty() ? "no replica"
            : replicas.stream().map(r -> "replica " + r.name() + " at " + r.endpoint()).collect(java.util.stream.Collectors.joining(", "))));
  }

  /** Verticles whose timers must fire on time: they should not share a web instance's loop. */
  private static final java.util.Set<String> ON_TIME = java.util.Set.of("RouterVerticle", "StreamRouterVerticle", "LagSamplerVerticle");

  /** One deployed verticle instance and the event loop it runs on (numbered in order of first use). */
  record Placed(String verticle, int loop) {
    @Override
    public String toString() {
      return verticle + "=" + loop;
    }
  }

  /**
   * Which event loop each verticle instance runs on, in deployment order. Vert.x's deployment
   * manager (an internal API) is the only place that knows.
   */
  List<Placed> placement() {
    java.util.Map<Object, Integer> loops = new java.util.IdentityHashMap<>();
    List<Placed> placed = new ArrayList<>();
    var manager = ((io.vertx.core.internal.VertxInternal) vertx).deploymentManager();
    for (String id : deployments) {
      var deployment = manager.deployment(id);
      if (deployment == null) {
        continue;
      }
      String name = deployment.deployment().identifier();
      for (io.vertx.core.Context context : deployment.deployment().contexts()) {
        Object loop = ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop();
        placed.add(new Placed(name.substring(name.lastIndexOf('.') + 1), loops.computeIfAbsent(loop, l -> loops.size())));
      }
    }
    return placed;
  }

  /** The latency-critical verticles that share an event loop with a web instance. */
  static List<Placed> behindWebInstances(List<Placed> placed) {
    java.util.Set<Integer> webLoops = new java.util.HashSet<>();
    placed.stream().filter(p -> p.verticle().equals("WebVerticle")).forEach(p -> webLoops.add(p.loop()));
    return placed.stream().filter(p -> ON_TIME.contains(p.verticle()) && webLoops.contains(p.loop())).toList();
  }

  private void logPlacement() {
    List<Placed> placed = placement();
    log.info("verticles on event loops: {}", placed.stream().map(Placed::toString).collect(java.util.stream.Collectors.joining(" ")));
    behindWebInstances(placed).forEach(p ->
        log.warn("{} shares an event loop with a web instance: its timers wait behind pushes to SSE sessions", p.verticle()));
  }

  private Future<Void> track(Future<String> deployment) {
    return deployment.onSuccess(deployments::add).mapEmpty();
  }

  /** Graceful: stop taking requests first (in a cluster, then hand the feed logs over), then the routers and the rest, then leave the cluster. */
  public Future<Void> stop() {
    // While the verticles undeploy, their consumers unregister with messages still on the way to
    // them: lag estimates this node's sampler publishes to its routers, heartbeats another node
    // publishes to every sampler. Vert.x drops those with a WARN ("Discarding message since the
    // consumer is not registered"); at an orderly stop that is by design (the node is leaving and
    // its feeds with it), so it is not a warning an operator should act on, and is kept out of the log.
    ch.qos.logback.classic.Logger discards =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");
    discards.setLevel(ch.qos.logback.classic.Level.ERROR);
    // In a cluster: the routers stop adopting; the web edge stops (no new feed opens here, this
    // node's SSE sessions end and their clients reconnect elsewhere, still served by these routers);
    // then the routers hand their logs over (handOverFeeds); then the rest stops.
    boolean clustered = config.get(FreshetConfig.CLUSTER_ENABLED);
    stopping.set(clustered);
    Future<Void> chain = clustered ? toRouters(RouterVerticle.STOP_ADOPTING) : Future.succeededFuture();
    List<String> order = new ArrayList<>();
    if (clustered) {
      for (int i = deployments.size() - 1; i >= 0; i--) {
        if (webDeployments.contains(deployments.get(i))) {
          order.add(deployments.get(i));
        }
      }
    }
    for (String id : order) {
      chain = chain.compose(v -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
    }
    chain = chain.compose(v -> handOverFeeds());
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      if (!order.contains(id)) {
        chain = chain.compose(v -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
      }
    }
    return chain.compose(v -> vertx.close());
  }

  /**
   * In a cluster, once the web edge has stopped: each router hands its feed logs to the other nodes
   * (see RouterVerticle), so their clients resume with their handles and offsets on the new owner
   * rather than refetching. Bounded: a slow handover does not hold the stop up for long.
   */
  private Future<Void> handOverFeeds() {
    if (!config.get(FreshetConfig.CLUSTER_ENABLED)) {
      return Future.succeededFuture();
    }
    return toRouters("hand-over");
  }

  private Future<Void> toRouters(String command) {
    List<Future<Object>> each = new ArrayList<>();
    for (int i = 0; i < config.getInt(FreshetConfig.ROUTER_INSTANCES); i++) {
      each.add(vertx.eventBus().request(io.freshet.core.bus.NodeAddresses.routerHandOver(nodeId, i), command,
          new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true).setSendTimeout(HANDOVER_BOUND_MS)).map(m -> m.body()));
    }
    return Future.join(each).<Void>mapEmpty().recover(e -> Future.succeededFuture());
  }

  /** How long a stop waits for the routers to hand their logs over. */
  private static final long HANDOVER_BOUND_MS = 15_000;

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
