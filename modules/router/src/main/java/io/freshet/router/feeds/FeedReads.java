package io.freshet.router.feeds;

import io.freshet.core.FreshetException;
import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.time.Scheduler;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * The reads a feed log makes for itself (its snapshot, its backstop), from the read side. When the
 * replica cannot be read (down, refusing connections) a read goes to the primary instead, within
 * the node's fallback budget, so feeds keep opening and backstopping while the standby is away.
 */
final class FeedReads {

  private final RunSource source;
  private final PrimaryFallbackBudget budget;
  private final RouterMetrics metrics;
  private final int maxRunsPerFeed;

  FeedReads(RunSource source, PrimaryFallbackBudget budget, RouterMetrics metrics, int maxRunsPerFeed) {
    this.source = source;
    this.budget = budget;
    this.metrics = metrics;
    this.maxRunsPerFeed = maxRunsPerFeed;
  }

  /** The batcher an environment's single-run reads share. */
  RunReadBatcher batcher(String envId, Scheduler scheduler, int batchMax) {
    return new RunReadBatcher(ids -> {
      metrics.hydrateQuery("feed-read");
      return orPrimary(() -> source.byIds(envId, ids), () -> source.primaryByIds(envId, ids));
    }, scheduler, batchMax);
  }

  /** Every row a feed follows, as the read side has them now. */
  Future<List<RunRow>> read(EnvFeeds env, FeedFilter filter) {
    if (filter instanceof FeedFilter.Run run) {
      return env.runReads.read(run.runId()).map(row -> row == null ? List.of() : List.of(row));
    }
    metrics.hydrateQuery("feed-resolve");
    return orPrimary(() -> source.resolve(env.envId, filter, maxRunsPerFeed),
        () -> source.resolvePrimary(env.envId, filter, maxRunsPerFeed));
  }

  /** These runs as the read side has them now (a backstop's check on runs that left a feed). */
  Future<List<RunRow>> readRuns(EnvFeeds env, Collection<String> runIds) {
    if (runIds.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    metrics.hydrateQuery("catch-up");
    return orPrimary(() -> source.byIds(env.envId, runIds), () -> source.primaryByIds(env.envId, runIds))
        .map(RunReads.Hydration::rows);
  }

  private <T> Future<T> orPrimary(Supplier<Future<T>> replica, Supplier<Future<T>> primary) {
    return replica.get().recover(e -> {
      if (budget.acquire(1) == 0) {
        return Future.failedFuture(new FreshetException(503, "the replica cannot be read (" + e.getMessage()
            + ") and the primary fallback budget is spent; retry shortly"));
      }
      metrics.fallbackReads(1);
      return primary.get();
    });
  }
}
