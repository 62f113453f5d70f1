package io.freshet.router;

import io.freshet.core.RunRow;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.Collection;
import java.util.List;

/** Reads from the read side (the replica, or the primary in primary-reads mode); existence checks from the primary. */
final class PgRunSource implements RunSource {

  private final Pool reads;
  private final Pool primary;

  PgRunSource(Pool reads, Pool primary) {
    this.reads = reads;
    this.primary = primary;
  }

  @Override
  public Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds) {
    return RunReads.hydrate(reads, envId, runIds);
  }

  @Override
  public Future<List<RunRow>> resolve(String envId, FeedFilter filter, int limit) {
    if (filter instanceof FeedFilter.Run run) {
      return RunReads.hydrate(reads, envId, List.of(run.runId())).map(RunReads.Hydration::rows);
    }
    if (filter instanceof FeedFilter.Tags tags) {
      return RunReads.byTags(reads, envId, tags.tags(), tags.createdAtFloorMs(), limit);
    }
    return RunReads.byBatch(reads, envId, ((FeedFilter.Batch) filter).batchId(), limit);
  }

  @Override
  public Future<Long> primaryRunVersion(String envId, String runId) {
    return RunReads.runVersion(primary, envId, runId);
  }

  @Override
  public Future<Boolean> batchExists(String envId, String batchId) {
    return RunReads.batchExists(primary, envId, batchId);
  }
}
