package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.time.Scheduler;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.engine.GatedReads;
import io.vertx.core.Future;

/**
 * One environment on one router: its feed logs (indexed by run, tag and batch), the gated reads of
 * its runs, the recent records a new log replays, its batched single-run feed reads, and its
 * subscription to the environment's records, which lingers briefly after the last log goes.
 */
final class EnvFeeds {

  final String envId;
  final FeedIndex index = new FeedIndex();
  final GatedReads<String, RunRow> reads;
  final ReplayBuffer replay;
  final RunReadBatcher runReads;
  private final Scheduler scheduler;
  private Future<Void> subscription = Future.succeededFuture();
  private long subscribedAtMs = -1;
  private long lingerTimer = -1;

  EnvFeeds(String envId, GatedReads<String, RunRow> reads, ReplayBuffer replay, RunReadBatcher runReads, Scheduler scheduler) {
    this.envId = envId;
    this.reads = reads;
    this.replay = replay;
    this.runReads = runReads;
    this.scheduler = scheduler;
  }

  /**
   * A change record of this environment: kept for replay, and, when a log here may show its run,
   * served from the row it carried ({@code carried}, null when it carried none this node may serve)
   * or else read through the gate. Returns whether a log may show it.
   */
  boolean onRecord(ChangeRecord record, RunRow carried) {
    replay.add(record, carried, scheduler.nowMs());
    if (index.candidates(record).isEmpty()) {
      return false; // nobody follows it; kept for replay only
    }
    if (carried != null) {
      reads.arrived(record.runId(), carried, carried.updatedAtMs(), carried.updatedAtMs());
    } else {
      expect(record.runId(), record.updatedAtMs());
    }
    return true;
  }

  /** Reads {@code runId} once its version {@code watermarkMs} is safe to read (null: at once, unchecked). */
  void expect(String runId, Long watermarkMs) {
    if (watermarkMs == null) {
      reads.expectUnstamped(runId);
    } else {
      reads.expect(runId, watermarkMs, watermarkMs);
    }
  }

  private boolean late;

  /** Completes once records published anywhere in the cluster reach this router. */
  Future<Void> subscription() {
    return subscription;
  }

  /** True the first time a snapshot stopped waiting for the subscription (see {@code FeedRequests.subscribedOrLate}). */
  boolean lateSubscription() {
    boolean first = !late;
    late = true;
    return first;
  }

  void subscribing(Future<Void> subscribed) {
    this.subscription = subscribed.onSuccess(v -> subscribedAtMs = scheduler.nowMs());
  }

  /** Whether records have reached this router for less than {@code windowMs} (or not yet). */
  boolean subscribedWithin(long windowMs) {
    return subscribedAtMs < 0 || scheduler.nowMs() - subscribedAtMs < windowMs;
  }

  /** The last log went: the subscription lingers {@code ms}, then {@code expire} runs unless a log came back. */
  void linger(long ms, Runnable expire) {
    if (lingerTimer < 0) {
      lingerTimer = scheduler.after(ms, () -> {
        lingerTimer = -1;
        if (index.isEmpty()) {
          expire.run();
        }
      });
    }
  }

  /** A log came back before the linger ran out. */
  void stay() {
    scheduler.cancel(lingerTimer);
    lingerTimer = -1;
  }
}
