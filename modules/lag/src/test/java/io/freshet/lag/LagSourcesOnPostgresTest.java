package io.freshet.lag;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.freshet.core.FreshetConfig;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.bus.NodeCodecs;
import io.freshet.core.lag.Estimate;
import io.freshet.core.lag.LagState;
import io.freshet.core.lag.Touch;
import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.RigTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The lag sources against the real primary and streaming standby ({@link PgRig}'s ports) of
 * {@code scripts/db.sh start}, in a throwaway database; the rig is started when it is not up.
 *
 * <p>Ordered: the tests up to {@code @Order(10)} need a database without
 * {@code aurora_replica_status()}; the later ones create it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@RigTest
class LagSourcesOnPostgresTest {

  private static final String HOST = "127.0.0.1";
  private static final int PRIMARY_PORT = PgRig.PRIMARY_PORT;
  private static final int STANDBY_PORT = PgRig.REPLICA_PORT;

  private Vertx vertx;
  private String database;
  private Pool primaryAdmin;
  private Pool primary;
  private Pool standby;

  @BeforeAll
  void createThrowawayDatabase() throws Exception {
    // Starts the project's primary and standby (scripts/db.sh) when they are not up.
    PgRig.ensureRunning();

    vertx = Vertx.vertx();
    NodeCodecs.register(vertx);
    database = "lag_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    primaryAdmin = pool(PRIMARY_PORT, "freshet");
    // An identifier cannot be a bind parameter; the name is generated above, never user input.
    primaryAdmin.query("CREATE DATABASE " + database).execute().await(30, SECONDS);
    Pool standbyAdmin = pool(STANDBY_PORT, "freshet");
    try {
      eventually("database replicated to the standby", () -> standbyAdmin
          .preparedQuery("SELECT 1 FROM pg_database WHERE datname = $1").execute(Tuple.of(database))
          .map(rows -> rows.size() == 1));
    } finally {
      standbyAdmin.close().await(10, SECONDS);
    }
    primary = pool(PRIMARY_PORT, database);
    standby = pool(STANDBY_PORT, database);
    Boolean inRecovery = standby.query("SELECT pg_is_in_recovery() AS r").execute().await(10, SECONDS)
        .iterator().next().getBoolean("r");
    assertThat(inRecovery).as("port " + STANDBY_PORT + " is a standby").isTrue();
  }

  @AfterAll
  void dropThrowawayDatabase() throws Exception {
    if (vertx == null) {
      return;
    }
    for (Pool pool : new Pool[] {primary, standby}) {
      if (pool != null) {
        pool.close().await(10, SECONDS);
      }
    }
    primaryAdmin.query("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)").execute().await(30, SECONDS);
    primaryAdmin.close().await(10, SECONDS);
    vertx.close().await(10, SECONDS);
  }

  @Test
  @Order(1)
  void auroraSourceNeverPutsTheFunctionOnTheWireWhenItIsAbsent() throws Exception {
    RecordingSqlClient wire = new RecordingSqlClient(standby);
    AuroraLagSource source = new AuroraLagSource(wire.client);

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> source.sample().await(10, SECONDS)).isInstanceOf(UnsupportedLagSourceException.class);
    }

    assertThat(wire.sent).as("one detection, memoized").containsExactly(AuroraLagSource.DETECT_SQL);
    assertThat(wire.countContaining("aurora_replica_status()")).isZero();
  }

  @Test
  @Order(2)
  void firstSupportedChoosesVanillaPgOnAPlainStandby() throws Exception {
    RecordingSqlClient wire = new RecordingSqlClient(standby);
    FirstSupportedLagSource source = new FirstSupportedLagSource(
        List.of(new AuroraLagSource(wire.client), new VanillaPgLagSource(wire.client)));

    Long first = source.sample().await(10, SECONDS);
    source.sample().await(10, SECONDS);

    assertThat(first).as("caught up (0) or mid-apply (null)").isIn(0L, null);
    assertThat(source.name()).isEqualTo("vanilla-pg");
    assertThat(wire.countContaining("to_regproc")).isEqualTo(1);
    assertThat(wire.countContaining("aurora_replica_status()")).isZero();
    assertThat(wire.countContaining("pg_is_in_recovery")).isEqualTo(2);
  }

  @Test
  @Order(3)
  void vanillaSourceReportsZeroOnACaughtUpStandby() throws Exception {
    VanillaPgLagSource source = new VanillaPgLagSource(standby);

    // An apply delay on the standby can leave it mid-apply for a moment after any write.
    eventually("standby caught up", () -> source.sample().map(lag -> lag != null && lag == 0L));
  }

  @Test
  @Order(4)
  void vanillaSourceCannotMeasureWhileTheStandbyHoldsBackACommit() throws Exception {
    primary.query("CREATE TABLE IF NOT EXISTS lag_probe (id int)").execute().await(10, SECONDS);
    VanillaPgLagSource source = new VanillaPgLagSource(standby);

    // With its replay paused the standby still receives the commit, but holds it back for as long
    // as the pause lasts (with only the apply delay, the moment to catch is a race): it has received
    // WAL it has not applied.
    PgRig.pauseReplay();
    try {
      primary.query("INSERT INTO lag_probe VALUES (1)").execute().await(10, SECONDS);
      eventually("a null (unmeasurable) sample while a commit waits to be applied", () -> source.sample().map(lag -> lag == null));
    } finally {
      PgRig.resumeReplay();
    }
    eventually("standby caught up again", () -> source.sample().map(lag -> lag != null && lag == 0L));
  }

  @Test
  @Order(5)
  void vanillaSourceReportsZeroOnThePrimary() throws Exception {
    assertThat(new VanillaPgLagSource(primary).sample().await(10, SECONDS)).isZero();
  }

  @Test
  @Order(6)
  void verticlePublishesTheVanillaPgEstimateOfARealStandby() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CompletableFuture<Estimate> published = new CompletableFuture<>();
    vertx.eventBus().<Estimate>localConsumer(NodeAddresses.lagEstimate(), message -> {
      if ("vanilla-pg".equals(message.body().source())) {
        published.complete(message.body());
      }
    }).completion().await(5, SECONDS);
    String id = vertx.deployVerticle(new LagSamplerVerticle(java.util.List.of(new io.freshet.store.ReplicaPool(0, "1", "127.0.0.1:" + STANDBY_PORT, standby)), primary, () -> true, registry),
        new DeploymentOptions().setConfig(FreshetConfig.defaults().with(new JsonObject().put("lag.heartbeat", false)).toJson()))
        .await(10, SECONDS);
    try {
      vertx.eventBus().send(NodeAddresses.lagTouch(), new Touch());

      Estimate estimate = published.get(10, SECONDS);
      assertThat(estimate.source()).isEqualTo("vanilla-pg");
      assertThat(estimate.lagMs()).as("0 if caught up, else the 30 ms default").isIn(0L, 30L);
    } finally {
      vertx.undeploy(id).await(10, SECONDS);
    }
  }

  @Test
  @Order(7)
  void theHeartbeatReportsTheStandbysApplyDelayAndFollowsADelayChange() throws Exception {
    // This throwaway database is not migrated: give it the heartbeat row's table (schema version 2).
    primary.query("CREATE TABLE IF NOT EXISTS freshet_heartbeat (id integer PRIMARY KEY, seq bigint NOT NULL, at timestamp(3) NOT NULL)")
        .execute().await(10, SECONDS);
    eventually("heartbeat table on the standby", () -> standby.query("SELECT to_regclass('freshet_heartbeat') IS NOT NULL AS t")
        .execute().map(rows -> rows.iterator().next().getBoolean("t")));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String id = vertx.deployVerticle(new LagSamplerVerticle(java.util.List.of(new io.freshet.store.ReplicaPool(0, "1", "127.0.0.1:" + STANDBY_PORT, standby)), primary, () -> true, registry),
        new DeploymentOptions().setConfig(FreshetConfig.defaults().toJson())).await(10, SECONDS);
    try {
      Long previous = null;
      for (long delay : new long[] {150, 400, 100}) {
        PgRig.setApplyDelayMs(delay);
        Long before = previous;
        AtomicReference<LagState> last = new AtomicReference<>();
        // The standby applies a heartbeat no sooner than the delay after its write, so a measurement
        // can fall short of the delay only by where the probe's bracket puts its midpoint (the 15 ms
        // tolerance): a lower bound. And once the delay moved, the estimate followed it: it is closer
        // to the new delay than to the one before. How soon is the benchmark's question, not this test's.
        eventually(() -> "a heartbeat estimate of at least " + (delay - 15) + " ms"
            + (before == null ? "" : ", closer to " + delay + " ms than to " + before + " ms") + "; last " + last.get(), 60, () -> {
          vertx.eventBus().send(NodeAddresses.lagTouch(), new Touch());
          return vertx.eventBus().<LagState>request(NodeAddresses.lagState(), null).map(reply -> {
            LagState state = reply.body();
            last.set(state);
            return "heartbeat".equals(state.source()) && state.lagMs() >= delay - 15
                && (before == null || Math.abs(state.lagMs() - delay) < Math.abs(state.lagMs() - before));
          });
        });
        previous = delay;
      }
    } finally {
      vertx.undeploy(id).await(10, SECONDS);
      PgRig.setApplyDelayMs(PgRig.DEFAULT_APPLY_DELAY_MS);
    }
  }

  @Test
  @Order(11)
  void auroraSourceSamplesTheLargestReaderLagAndDetectsOnlyOnce() throws Exception {
    primary.query("CREATE FUNCTION aurora_replica_status()"
        + " RETURNS TABLE(session_id text, replica_lag_in_msec float8) LANGUAGE sql AS $$"
        + " VALUES ('MASTER_SESSION_ID', 0::float8), ('replica-a', 12.5), ('replica-b', 40), ('replica-c', NULL) $$")
        .execute().await(10, SECONDS);
    eventually("function replicated to the standby", () -> standby.query(AuroraLagSource.DETECT_SQL).execute()
        .map(rows -> rows.iterator().next().getBoolean("available")));
    RecordingSqlClient wire = new RecordingSqlClient(standby);
    AuroraLagSource source = new AuroraLagSource(wire.client);

    assertThat(source.sample().await(10, SECONDS)).isEqualTo(40L);
    assertThat(source.sample().await(10, SECONDS)).isEqualTo(40L);

    assertThat(wire.sent).containsExactly(AuroraLagSource.DETECT_SQL, AuroraLagSource.LAG_SQL, AuroraLagSource.LAG_SQL);
  }

  @Test
  @Order(12)
  void auroraSourceReportsZeroWhenOnlyTheWriterIsListed() throws Exception {
    primary.query("CREATE OR REPLACE FUNCTION aurora_replica_status()"
        + " RETURNS TABLE(session_id text, replica_lag_in_msec float8) LANGUAGE sql AS $$"
        + " VALUES ('MASTER_SESSION_ID', 7::float8) $$").execute().await(10, SECONDS);
    // The standby replays in commit order: once this later marker is visible, so is the replacement.
    primary.query("CREATE FUNCTION writer_only_replicated() RETURNS void LANGUAGE sql AS $$ SELECT $$")
        .execute().await(10, SECONDS);
    eventually("replaced function replicated", () -> standby.query("SELECT to_regproc('writer_only_replicated') IS NOT NULL AS done")
        .execute().map(rows -> rows.iterator().next().getBoolean("done")));

    assertThat(new AuroraLagSource(standby).sample().await(10, SECONDS)).isZero();
  }

  @Test
  @Order(13)
  void auroraSourceInOwnRowsReportsTheInstanceItReaches() throws Exception {
    auroraCluster();
    RecordingSqlClient wire = new RecordingSqlClient(standby);
    AuroraLagSource own = new AuroraLagSource(wire.client, AuroraRows.OWN, "replica 1");

    assertThat(own.sample().await(10, SECONDS)).as("reader-a's own row").isEqualTo(13L);
    assertThat(own.sample().await(10, SECONDS)).isEqualTo(13L);
    assertThat(wire.sent).containsExactly(AuroraLagSource.DETECT_SQL, AuroraLagSource.OWN_LAG_SQL, AuroraLagSource.OWN_LAG_SQL);
    assertThat(new AuroraLagSource(standby, AuroraRows.SLOWEST, "replica 1").sample().await(10, SECONDS)).as("the slowest reader").isEqualTo(40L);

    SqlConnection onWriter = standby.getConnection().await(10, SECONDS);
    try {
      onWriter.query("SET freshet.instance = 'writer-1'").execute().await(10, SECONDS);
      assertThat(new AuroraLagSource(onWriter, AuroraRows.OWN, "replica 1").sample().await(10, SECONDS))
          .as("a connection on the writer has no row of its own: the slowest reader").isEqualTo(40L);
    } finally {
      onWriter.query("RESET freshet.instance").execute().await(10, SECONDS); // the connection goes back to the pool
      onWriter.close().await(10, SECONDS);
    }
  }

  @Test
  @Order(14)
  void auroraSourceInOwnRowsTurnsToTheSlowestReaderWhenASecondInstanceAnswers() throws Exception {
    auroraCluster();
    SqlConnection connection = standby.getConnection().await(10, SECONDS);
    try {
      connection.query("SET freshet.instance = 'reader-a'").execute().await(10, SECONDS);
      AuroraLagSource source = new AuroraLagSource(connection, AuroraRows.OWN, "replica 1");
      assertThat(source.sample().await(10, SECONDS)).isEqualTo(13L);

      // What a reader endpoint does across connections: the next sample lands on another reader.
      connection.query("SET freshet.instance = 'reader-b'").execute().await(10, SECONDS);
      assertThat(source.sample().await(10, SECONDS)).isEqualTo(40L);
      connection.query("SET freshet.instance = 'reader-a'").execute().await(10, SECONDS);
      assertThat(source.sample().await(10, SECONDS)).as("for good, back on reader-a too").isEqualTo(40L);
      assertThat(source.rows()).isEqualTo(AuroraRows.SLOWEST);
    } finally {
      connection.query("RESET freshet.instance").execute().await(10, SECONDS);
      connection.close().await(10, SECONDS);
    }
  }

  /**
   * Aurora's two functions as a cluster of a writer and two readers shows them: reader-a 12.5 ms
   * behind, reader-b 40 ms. The instance a connection reaches is reader-a, or the session's
   * {@code freshet.instance} when set.
   */
  private void auroraCluster() throws Exception {
    primary.query("DROP FUNCTION IF EXISTS aurora_replica_status()").execute().await(10, SECONDS);
    primary.query("CREATE FUNCTION aurora_replica_status()"
        + " RETURNS TABLE(server_id text, session_id text, replica_lag_in_msec float8) LANGUAGE sql AS $$"
        + " VALUES ('writer-1', 'MASTER_SESSION_ID', NULL::float8), ('reader-a', 'a1b2', 12.5), ('reader-b', 'c3d4', 40) $$")
        .execute().await(10, SECONDS);
    primary.query("CREATE OR REPLACE FUNCTION aurora_db_instance_identifier() RETURNS varchar LANGUAGE sql AS $$"
        + " SELECT coalesce(nullif(current_setting('freshet.instance', true), ''), 'reader-a')::varchar $$").execute().await(10, SECONDS);
    String marker = "aurora_cluster_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    primary.query("CREATE FUNCTION " + marker + "() RETURNS void LANGUAGE sql AS $$ SELECT $$").execute().await(10, SECONDS);
    eventually("the functions replicated", () -> standby.query("SELECT to_regproc('" + marker + "') IS NOT NULL AS done")
        .execute().map(rows -> rows.iterator().next().getBoolean("done")));
  }

  private Pool pool(int port, String db) {
    return PgBuilder.pool()
        .connectingTo("postgresql://freshet:freshet@" + HOST + ":" + port + "/" + db)
        .using(vertx)
        .build();
  }

  /** Polls a check every 50 ms on a Vert.x timer until it holds, for at most 30 s. */
  private void eventually(String what, Supplier<Future<Boolean>> check) throws Exception {
    eventually(() -> what, 30, check);
  }

  /** Polls a check every 50 ms on a Vert.x timer until it holds, for at most {@code timeoutSeconds}. */
  private void eventually(Supplier<String> what, long timeoutSeconds, Supplier<Future<Boolean>> check) throws Exception {
    long deadline = System.nanoTime() + SECONDS.toNanos(timeoutSeconds);
    while (true) {
      Future<Boolean> result = check.get().otherwise(false);
      if (Boolean.TRUE.equals(result.await(10, SECONDS))) {
        return;
      }
      if (System.nanoTime() > deadline) {
        fail("timed out waiting: " + what.get());
      }
      vertx.timer(50).await(10, SECONDS);
    }
  }
}
