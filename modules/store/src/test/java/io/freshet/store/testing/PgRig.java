package io.freshet.store.testing;

import io.freshet.store.Migrations;
import io.freshet.store.Pools;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The real primary and lagging standby that integration tests run against, started by the
 * project's own {@code scripts/db.sh} when they are not already up. Each test class gets a fresh
 * database (created on the primary, streamed to the standby) so tests never see each other's rows;
 * the standby's apply delay is global, which is why test classes run one at a time.
 */
public final class PgRig {

  public static final int PRIMARY_PORT = Integer.parseInt(env("FRESHET_PG_PRIMARY_PORT", "15432"));
  public static final int REPLICA_PORT = Integer.parseInt(env("FRESHET_PG_REPLICA_PORT", "15433"));
  public static final long DEFAULT_APPLY_DELAY_MS = 150;

  private static boolean started;

  private PgRig() {}

  public static String uri(int port, String database) {
    return "postgresql://freshet:freshet@127.0.0.1:" + port + "/" + database;
  }

  /** Starts the rig if needed, then creates a migrated database visible on both servers. */
  public static TestDatabase createDatabase(Vertx vertx) {
    ensureRunning();
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    Pool admin = Pools.create(vertx, uri(PRIMARY_PORT, "freshet"), 1, "rig-admin-" + name);
    try {
      Await.result(admin.query("CREATE DATABASE " + name).execute(), 30);
    } finally {
      Await.result(admin.close(), 10);
    }
    Pool primary = Pools.create(vertx, uri(PRIMARY_PORT, name), 8, "test-primary-" + name);
    Await.result(Migrations.apply(primary), 60);
    Pool replica = Pools.create(vertx, uri(REPLICA_PORT, name), 8, "test-replica-" + name);
    TestDatabase db = new TestDatabase(vertx, name, primary, replica);
    db.awaitReplicaCaughtUp();
    return db;
  }

  /** Changes {@code recovery_min_apply_delay} on the running standby. */
  public static void setApplyDelayMs(long ms) {
    ensureRunning();
    run("set-delay", Long.toString(ms));
  }

  /** Pauses the standby's replay ({@code pg_wal_replay_pause()}): it keeps answering, ever staler. */
  public static void pauseReplay() {
    run("replica", "pause");
  }

  public static void resumeReplay() {
    run("replica", "resume");
  }

  /** Stops the standby server alone: connections to it are refused until {@link #startReplica()}. */
  public static void stopReplica() {
    run("replica", "stop");
  }

  public static void startReplica() {
    run("replica", "start");
  }

  /** Starts the pair through scripts/db.sh unless both ports already answer (scripts/test.sh started it). */
  public static synchronized void ensureRunning() {
    if (started || reachable(PRIMARY_PORT) && reachable(REPLICA_PORT)) {
      started = true;
      return;
    }
    run("start");
    started = true;
  }

  private static void run(String... args) {
    runScript(java.util.Map.of(), args);
  }

  /** Runs scripts/db.sh with {@code args} and extra environment {@code env}; fails with its output when it fails. */
  static void runScript(java.util.Map<String, String> env, String... args) {
    Path script = projectRoot().resolve("scripts/db.sh");
    String[] command = new String[args.length + 2];
    command[0] = "bash";
    command[1] = script.toString();
    System.arraycopy(args, 0, command, 2, args.length);
    try {
      Path log = Files.createTempFile("freshet-db-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).directory(projectRoot().toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(180, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("scripts/db.sh " + String.join(" ", args) + " failed:\n" + Files.readString(log));
      }
      Files.deleteIfExists(log);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Path projectRoot() {
    String fromProperty = System.getProperty("freshet.projectRoot");
    if (fromProperty != null && new File(fromProperty, "scripts/db.sh").exists()) {
      return Path.of(fromProperty);
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("scripts/db.sh"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find scripts/db.sh above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  private static boolean reachable(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
