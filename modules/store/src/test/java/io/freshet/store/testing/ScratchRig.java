package io.freshet.store.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A rig of its own, beside the shared one ({@link PgRig}): a primary and {@code delays.length}
 * standbys started by scripts/db.sh in their own folder on their own loopback ports, for the tests
 * that change the topology (several standbys, a failover) where the shared rig must stay as it is.
 * {@link #close()} stops the servers and deletes the folder.
 */
public final class ScratchRig implements AutoCloseable {

  private final Map<String, String> env;
  private final Path dir;
  private final int primaryPort;
  private final int replicaPort;
  private final int replicas;

  /**
   * @param name its folder under .data/ (e.g. {@code pg-replicas})
   * @param primaryPort the primary's port; standby N listens on {@code primaryPort + N}
   * @param delaysMs each standby's apply delay
   */
  public ScratchRig(String name, int primaryPort, long... delaysMs) {
    this.dir = PgRig.projectRoot().resolve(".data").resolve(name);
    this.primaryPort = primaryPort;
    this.replicaPort = primaryPort + 1;
    this.replicas = delaysMs.length;
    this.env = Map.of("FRESHET_PG_DIR", dir.toString(), "FRESHET_PG_PRIMARY_PORT", Integer.toString(primaryPort),
        "FRESHET_PG_REPLICA_PORT", Integer.toString(replicaPort),
        "FRESHET_APPLY_DELAYS_MS", Stream.of(delaysMs).flatMapToLong(java.util.Arrays::stream).mapToObj(Long::toString)
            .collect(Collectors.joining(",")));
  }

  /** Starts from scratch: any earlier folder of this name is deleted first. */
  public ScratchRig start() {
    db("stop");
    deleteFolder();
    db("start", "--replicas", Integer.toString(replicas));
    return this;
  }

  public String primaryUri() {
    return PgRig.uri(primaryPort, "freshet");
  }

  /** Standby {@code n}'s URI (from 1). */
  public String replicaUri(int n) {
    return PgRig.uri(replicaPort + n - 1, "freshet");
  }

  public List<String> replicaUris() {
    List<String> uris = new ArrayList<>();
    for (int n = 1; n <= replicas; n++) {
      uris.add(replicaUri(n));
    }
    return uris;
  }

  /** {@code scripts/db.sh replica N pause|resume|stop|start}. */
  public void replica(int n, String action) {
    db("replica", Integer.toString(n), action);
  }

  /** {@code scripts/db.sh primary stop|start}. */
  public void primary(String action) {
    db("primary", action);
  }

  /** {@code scripts/db.sh promote N}: standby N becomes a primary. */
  public void promote(int n) {
    db("promote", Integer.toString(n));
  }

  public void db(String... args) {
    PgRig.runScript(env, args);
  }

  @Override
  public void close() {
    try {
      db("stop");
    } finally {
      deleteFolder();
    }
  }

  private void deleteFolder() {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot delete " + dir, e);
    }
  }
}
