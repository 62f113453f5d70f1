package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;

/** The router's reads: from the read side (the replica), and from the primary for the bounded fallback and existence checks. */
public interface RunSource {

  /** Whole rows of these runs, as the read side has them now (the fastest replica), with its replay position. */
  Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds);

  /** The same rows, read from read replica {@code replica} (numbered from 0 in {@code db.replica.uris} order). */
  default Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds, int replica) {
    return byIds(envId, runIds);
  }

  /** The same rows read from the primary: current by construction, at the primary's cost. */
  Future<RunReads.Hydration> primaryByIds(String envId, Collection<String> runIds);

  /** The rows a feed follows (a run, tag membership, a batch), as the read side has them now. */
  Future<List<RunRow>> resolve(String envId, FeedFilter filter, int limit);

  /** The same, read from the primary (a feed read while the replica is unreachable). */
  Future<List<RunRow>> resolvePrimary(String envId, FeedFilter filter, int limit);

  /** The run's committed version on the primary, or null when it does not exist. */
  Future<Long> primaryRunVersion(String envId, String runId);

  /** The committed versions of these runs on the primary (absent: no such run). */
  Future<java.util.Map<String, Long>> primaryRunVersions(String envId, Collection<String> runIds);

  /** Whether the batch exists, checked on the primary. */
  Future<Boolean> batchExists(String envId, String batchId);
}
