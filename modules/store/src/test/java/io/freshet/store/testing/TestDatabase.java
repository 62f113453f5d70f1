package io.freshet.store.testing;

import io.freshet.store.Pools;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

/** A fresh, migrated database on the rig's primary, with pools to it on both servers. */
public final class TestDatabase implements AutoCloseable {

  private final Vertx vertx;
  private final String name;
  private final Pool primary;
  private final Pool replica;

  TestDatabase(Vertx vertx, String name, Pool primary, Pool replica) {
    this.vertx = vertx;
    this.name = name;
    this.primary = primary;
    this.replica = replica;
  }

  public String name() {
    return name;
  }

  public Pool primary() {
    return primary;
  }

  public Pool replica() {
    return replica;
  }

  public String primaryUri() {
    return PgRig.uri(PgRig.PRIMARY_PORT, name);
  }

  public String replicaUri() {
    return PgRig.uri(PgRig.REPLICA_PORT, name);
  }

  /** Blocks until the standby has replayed everything the primary has written so far. */
  public void awaitReplicaCaughtUp() {
    String lsn = Await.result(primary.query("SELECT pg_current_wal_lsn()::text").execute(), 10)
        .iterator().next().getString(0);
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        boolean caughtUp = Await.result(replica.preparedQuery("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .execute(Tuple.of(lsn)), 5).iterator().next().getBoolean(0);
        if (caughtUp) {
          return;
        }
      } catch (RuntimeException notYetThere) {
        // the database may not exist on the standby yet
      }
      sleep(10);
    }
    throw new IllegalStateException("standby did not catch up with " + lsn + " within 30 s");
  }

  @Override
  public void close() {
    Await.result(primary.close(), 10);
    Await.result(replica.close(), 10);
    Pool admin = Pools.create(vertx, PgRig.uri(PgRig.PRIMARY_PORT, "freshet"), 1, "rig-drop-" + name);
    try {
      Await.result(admin.query("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").execute(), 30);
    } catch (RuntimeException e) {
      // leave it: the next reset removes it
    } finally {
      Await.result(admin.close(), 10);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
