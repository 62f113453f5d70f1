package io.freshet.server;

import io.freshet.core.FreshetConfig;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** A real node on a fresh database of the rig's primary and lagging standby. */
final class NodeFixture implements AutoCloseable {

  final TestDatabase db;
  final FreshetNode node;
  final Http http;
  private final Vertx setup;
  private final boolean ownsDb;

  private NodeFixture(Vertx setup, TestDatabase db, FreshetNode node, boolean ownsDb) {
    this.setup = setup;
    this.db = db;
    this.node = node;
    this.ownsDb = ownsDb;
    this.http = new Http("http://127.0.0.1:" + node.httpPort(), node.development().apiKey());
  }

  /** A node on its own fresh database; {@code overrides} are flat config keys. */
  static NodeFixture start(JsonObject overrides) {
    Vertx setup = Vertx.vertx();
    TestDatabase db = PgRig.createDatabase(setup);
    return new NodeFixture(setup, db, startNode(db, overrides), true);
  }

  /** A node on its own fresh database, with overrides that name that database (e.g. its primary through a proxy). */
  static NodeFixture start(java.util.function.Function<TestDatabase, JsonObject> overridesFor) {
    Vertx setup = Vertx.vertx();
    TestDatabase db = PgRig.createDatabase(setup);
    return new NodeFixture(setup, db, startNode(db, overridesFor.apply(db)), true);
  }

  /** Another node on the same database (for cluster tests). */
  static NodeFixture join(NodeFixture first, JsonObject overrides) {
    return new NodeFixture(Vertx.vertx(), first.db, startNode(first.db, overrides), false);
  }

  /**
   * A node on a rig of its own ({@link io.freshet.store.testing.ScratchRig}): its database
   * {@code freshet}, migrated by the node, with these replicas.
   */
  static NodeFixture onRig(String primaryUri, java.util.List<String> replicaUris, JsonObject overrides) {
    FreshetConfig config = FreshetConfig.defaults().with(new JsonObject()
        .put("http.port", 0)
        .put("http.host", "127.0.0.1")
        .put("db.primary.uri", primaryUri)
        .put("db.replica.uris", String.join(",", replicaUris))
        .mergeIn(overrides));
    return new NodeFixture(Vertx.vertx(), null, Await.result(FreshetNode.start(config), 120), false);
  }

  static FreshetNode startNode(TestDatabase db, JsonObject overrides) {
    FreshetConfig config = FreshetConfig.defaults().with(new JsonObject()
        .put("http.port", 0)
        .put("http.host", "127.0.0.1")
        .put("db.primary.uri", db.primaryUri())
        .put("db.replica.uri", db.replicaUri())
        .mergeIn(overrides));
    return Await.result(FreshetNode.start(config), 120);
  }

  /**
   * {@code overrides}, with change records that carry no row: every change goes through the gate,
   * as a record from another producer does. For tests of the gate itself (the tripwire, retries,
   * the fallback, the watch), which writes through the API would otherwise skip.
   */
  static JsonObject gateOnly(JsonObject overrides) {
    return overrides.copy().put("router.rowImageMaxBytes", 0);
  }

  static void applyDelay(long ms) {
    PgRig.setApplyDelayMs(ms);
  }

  /** The sum of the node's /metrics lines that start with {@code prefix} (a name, or a name and tags). */
  double metric(String prefix) {
    return http.get("/metrics").body().lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /**
   * Waits until the node's metric {@code prefix} (summed as {@link #metric} sums it) satisfies
   * {@code condition}: the server's own signal, polled with {@link Await#until}'s generous timeout.
   */
  void awaitMetric(String prefix, java.util.function.DoublePredicate condition, String what) {
    double[] last = {Double.NaN};
    Await.until(() -> what + " (" + prefix + " last read " + last[0] + ")", () -> condition.test(last[0] = metric(prefix)));
  }

  String devEnvId() {
    return node.development().id();
  }

  private boolean nodeStopped;

  /** Stops the node alone (gracefully), keeping its database for the nodes that share it; {@link #close()} still cleans up. */
  void stopNode() {
    nodeStopped = true;
    Await.result(node.stop(), 60);
  }

  @Override
  public void close() {
    try {
      if (!nodeStopped) {
        Await.result(node.stop(), 60);
      }
    } finally {
      if (ownsDb) {
        db.close();
      }
      Await.result(setup.close(), 30);
    }
  }
}
