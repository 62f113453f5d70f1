package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.Collection;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Reads from the read side (the read replicas, or the primary in primary-reads mode) and from the
 * primary. A gated read names its replica; the reads outside the gate (snapshots, backstops, echo
 * re-hydrates) go to the fastest one in rotation.
 */
public final class PgRunSource implements RunSource {

  private final List<Pool> replicas;
  private final Pool primary;
  private final IntSupplier fastest;

  /**
   * @param replicas the read side, in {@code db.replica.uris} order (the primary alone in primary-reads mode)
   * @param fastest which of them the reads outside the gate go to
   */
  public PgRunSource(List<Pool> replicas, Pool primary, IntSupplier fastest) {
    this.replicas = List.copyOf(replicas);
    this.primary = primary;
    this.fastest = fastest;
  }

  public PgRunSource(Pool reads, Pool primary) {
    this(List.of(reads), primary, () -> 0);
  }

  private Pool reads() {
    return replica(fastest.getAsInt());
  }

  private Pool replica(int replica) {
    return replicas.get(replica >= 0 && replica < replicas.size() ? replica : 0);
  }

  @Override
  public Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds) {
    return RunReads.hydrate(reads(), envId, runIds);
  }

  @Override
  public Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds, int replica) {
    return RunReads.hydrate(replica(replica), envId, runIds);
  }

  @Override
  public Future<RunReads.Hydration> primaryByIds(String envId, Collection<String> runIds) {
    return RunReads.hydrate(primary, envId, runIds);
  }

  @Override
  public Future<List<RunRow>> resolve(String envId, FeedFilter filter, int limit) {
    return resolve(reads(), envId, filter, limit);
  }

  @Override
  public Future<List<RunRow>> resolvePrimary(String envId, FeedFilter filter, int limit) {
    return resolve(primary, envId, filter, limit);
  }

  private static Future<List<RunRow>> resolve(SqlClient client, String envId, FeedFilter filter, int limit) {
    if (filter instanceof FeedFilter.Run run) {
      return RunReads.hydrate(client, envId, List.of(run.runId())).map(RunReads.Hydration::rows);
    }
    if (filter instanceof FeedFilter.Tags tags) {
      return RunReads.byTags(client, envId, tags.tags(), tags.createdAtFloorMs(), tags.statuses(), limit);
    }
    return RunReads.byBatch(client, envId, ((FeedFilter.Batch) filter).batchId(), limit);
  }

  @Override
  public Future<Long> primaryRunVersion(String envId, String runId) {
    return RunReads.runVersion(primary, envId, runId);
  }

  @Override
  public Future<java.util.Map<String, Long>> primaryRunVersions(String envId, Collection<String> runIds) {
    return RunReads.runVersions(primary, envId, runIds);
  }

  @Override
  public Future<Boolean> batchExists(String envId, String batchId) {
    return RunReads.batchExists(primary, envId, batchId);
  }
}
