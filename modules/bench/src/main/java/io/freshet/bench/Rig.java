package io.freshet.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The primary and lagging standby the benchmark runs against, driven through the project's own
 * {@code scripts/db.sh} (same ports as given in the environment, so it changes only its own pair).
 */
final class Rig {

  final Path repo;
  final int primaryPort;
  final int replicaPort;
  /** The rig's data folder, or null for db.sh's default (the bench's own pair, started by scripts/bench.sh). */
  private final Path dir;
  private String delays = "";

  Rig(Path repo, int primaryPort, int replicaPort) {
    this(repo, primaryPort, replicaPort, null);
  }

  private Rig(Path repo, int primaryPort, int replicaPort, Path dir) {
    this.repo = repo;
    this.primaryPort = primaryPort;
    this.replicaPort = replicaPort;
    this.dir = dir;
  }

  /** A rig of its own under .data/NAME: a primary on {@code primaryPort}, standby N on {@code primaryPort + N}. */
  static Rig own(Path repo, String name, int primaryPort) {
    return new Rig(repo, primaryPort, primaryPort + 1, repo.resolve(".data").resolve(name));
  }

  /** Starts it from scratch with one standby per delay. */
  void start(List<Long> delaysMs) {
    delays = delaysMs.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
    destroy(); // whatever an interrupted run left
    run("start", "--replicas", Integer.toString(delaysMs.size()));
  }

  /** Stops its servers and deletes its data. */
  void destroy() {
    run("stop");
    if (dir != null && java.nio.file.Files.exists(dir)) {
      try (var paths = java.nio.file.Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new IllegalStateException("cannot delete " + dir, e);
      }
    }
  }

  /** Standby {@code n}'s URI (from 1). */
  String replicaUri(int n) {
    return "postgresql://freshet:freshet@127.0.0.1:" + (replicaPort + n - 1) + "/freshet";
  }

  String primaryUri() {
    return "postgresql://freshet:freshet@127.0.0.1:" + primaryPort + "/freshet";
  }

  String replicaUri() {
    return "postgresql://freshet:freshet@127.0.0.1:" + replicaPort + "/freshet";
  }

  /** Sets {@code recovery_min_apply_delay} on the running standby; returns once it is in effect. */
  void setApplyDelay(long ms) {
    run("set-delay", Long.toString(ms));
  }

  /** Pauses the standby's replay ({@code pg_wal_replay_pause()}): it keeps answering, ever staler. */
  void pauseReplay() {
    run("replica", "pause");
  }

  void resumeReplay() {
    run("replica", "resume");
  }

  private void run(String... args) {
    String[] command = new String[args.length + 2];
    command[0] = "bash";
    command[1] = repo.resolve("scripts/db.sh").toString();
    System.arraycopy(args, 0, command, 2, args.length);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("FRESHET_PG_PRIMARY_PORT", Integer.toString(primaryPort));
    pb.environment().put("FRESHET_PG_REPLICA_PORT", Integer.toString(replicaPort));
    if (dir != null) {
      pb.environment().put("FRESHET_PG_DIR", dir.toString());
      pb.environment().put("FRESHET_APPLY_DELAYS_MS", delays);
    }
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("scripts/db.sh " + String.join(" ", args) + " failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run scripts/db.sh: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
