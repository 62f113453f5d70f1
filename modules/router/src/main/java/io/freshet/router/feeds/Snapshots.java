package io.freshet.router.feeds;

import io.freshet.core.FreshetException;
import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.time.Scheduler;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.RouterSettings;
import io.freshet.router.engine.LagView;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * How a new log's snapshot is made current before it is served. It is read from the replica, which
 * may lack changes already on their way: a run created a moment ago, a change that reached the
 * environment just before the log registered (replayed from the last {@code router.replayWindowMs}
 * through the gate), or one committed before this router subscribed to the environment at all
 * (compared with the primary once). The snapshot waits for each of them to be read fresh, at most
 * until the fallback would have read it from the primary, rather than answering without it.
 */
final class Snapshots {

  private final RouterSettings settings;
  private final Scheduler scheduler;
  private final FeedReads reads;
  private final RunSource source;
  private final LagView lag;
  /** Re-reads a log once the replica has applied what was committed before its environment's subscription. */
  private final Consumer<LiveLog> backstopLater;
  /** Whether a log is still the one its handle names (not dropped meanwhile). */
  private final Predicate<LiveLog> current;
  /** Logs whose snapshot waits for changes on their way. */
  private final Set<LiveLog> opening = new HashSet<>();

  Snapshots(RouterSettings settings, Scheduler scheduler, FeedReads reads, RunSource source, LagView lag,
      Consumer<LiveLog> backstopLater, Predicate<LiveLog> current) {
    this.current = current;
    this.settings = settings;
    this.scheduler = scheduler;
    this.reads = reads;
    this.source = source;
    this.lag = lag;
    this.backstopLater = backstopLater;
  }

  /** Reads the new log's rows and serves its snapshot once it carries every change on its way. */
  Future<Void> take(LiveLog live) {
    EnvFeeds env = live.env;
    FeedLog log = live.log;
    long readStartedAt = scheduler.nowMs();
    return reads.read(env, log.filter)
        .compose(rows -> rows.isEmpty() ? missing(live, rows) : Future.succeededFuture(rows))
        .compose(rows -> rows.isEmpty() || !env.subscribedWithin(settings.replayWindowMs()) ? Future.succeededFuture(rows)
            : newerOnThePrimary(live, rows))
        .map(rows -> {
          for (RunRow row : rows) {
            log.offer(row);
          }
          // The snapshot came from a replica that may lag: changes that reached this environment just
          // before the log registered are in it as their records carried them, or go through the gate
          // again and the snapshot waits for them.
          long since = readStartedAt - settings.replayWindowMs();
          List<ChangeRecord> toRead = new ArrayList<>();
          Set<String> read = rows.stream().map(RunRow::runId).collect(Collectors.toSet());
          for (ReplayBuffer.Seen seen : env.replay.since(since, scheduler.nowMs())) {
            if (seen.row() != null && (read.contains(seen.record().runId()) || log.filter instanceof FeedFilter.Run)) {
              log.offer(seen.row()); // kept only if newer than what the replica returned
            } else if (log.filter.mayMatch(seen.record())) {
              // Not in what the replica returned: new, or left out by the filter at a version newer
              // than the record (a write that published nothing). Only a read can tell.
              toRead.add(seen.record());
            }
          }
          log.commit(true);
          for (ChangeRecord record : toRead) {
            env.expect(record.runId(), record.updatedAtMs());
            if (record.updatedAtMs() != null) {
              live.await(record.runId(), record.updatedAtMs());
            }
          }
          if (env.subscribedWithin(settings.replayWindowMs())) {
            // Records from before the subscription are in no replay buffer: read the log again once the
            // replica has applied everything committed before it.
            scheduler.after(lag.lagMs() + settings.marginMs(), () -> backstopLater.accept(live));
          }
          if (live.settle(env.reads::hasPending)) {
            serve(live);
          } else {
            opening.add(live);
            live.waitAtMost(scheduler, settings.freshWithinMs() + settings.maxDelayMs(), () -> serve(live));
          }
          return null;
        });
  }

  /** The feed's rows are missing on the replica: unknown, or created a moment ago and not applied there yet. */
  private Future<List<RunRow>> missing(LiveLog live, List<RunRow> rows) {
    EnvFeeds env = live.env;
    FeedFilter filter = live.log.filter;
    if (filter instanceof FeedFilter.Run run) {
      return source.primaryRunVersion(env.envId, run.runId()).map(version -> {
        if (version == null) {
          throw FreshetException.notFound("run " + run.runId() + " not found");
        }
        live.await(run.runId(), version);
        env.expect(run.runId(), version);
        return rows;
      });
    }
    if (filter instanceof FeedFilter.Batch batch) {
      return source.batchExists(env.envId, batch.batchId()).map(exists -> {
        if (!exists) {
          throw FreshetException.notFound("batch " + batch.batchId() + " not found");
        }
        return rows;
      });
    }
    return Future.succeededFuture(rows);
  }

  /**
   * Records from before this router subscribed to the environment are in no replay buffer here (the
   * first feed of an environment on this node; a client that refetched after its node died):
   * compare with the primary once, so the snapshot never shows a client an older version than the
   * one it was shown a moment ago elsewhere.
   */
  private Future<List<RunRow>> newerOnThePrimary(LiveLog live, List<RunRow> rows) {
    EnvFeeds env = live.env;
    return source.primaryRunVersions(env.envId, rows.stream().map(RunRow::runId).toList()).map(versions -> {
      for (RunRow row : rows) {
        Long committed = versions.get(row.runId());
        if (committed != null && committed > row.updatedAtMs()) {
          live.await(row.runId(), committed);
          env.expect(row.runId(), committed);
        }
      }
      return rows;
    }).recover(e -> Future.succeededFuture(rows));
  }

  /** {@code live} grew: a snapshot that waited may be served now. */
  void grew(LiveLog live) {
    if (!live.isOpen() && live.settle(live.env.reads::hasPending)) {
      serve(live);
    }
  }

  /** Reads of these runs of {@code env} finished: snapshots that waited for them may be served now. */
  void settled(EnvFeeds env, Collection<String> runIds) {
    for (LiveLog live : List.copyOf(opening)) {
      if (live.env == env && runIds.stream().anyMatch(live::awaits) && live.settle(env.reads::hasPending)) {
        serve(live);
      }
    }
  }

  /** The log is going away: its snapshot is never served. */
  List<LiveLog.Waiter> abandon(LiveLog live) {
    opening.remove(live);
    return live.abandon(scheduler);
  }

  private void serve(LiveLog live) {
    if (live.isOpen() || !current.test(live)) {
      return;
    }
    opening.remove(live);
    for (LiveLog.Waiter waiter : live.open(scheduler)) {
      answer(live, waiter);
    }
  }

  /** The snapshot, or with {@code offset=now} only its offset. */
  static void answer(LiveLog live, LiveLog.Waiter waiter) {
    waiter.reply().answer(live.handle(), waiter.skipHistory() ? LogSlice.unchanged(live.log.seq()) : live.log.snapshot());
  }
}
