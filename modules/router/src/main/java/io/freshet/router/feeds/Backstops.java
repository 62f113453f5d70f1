package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.time.Scheduler;
import io.freshet.router.RouterSettings;
import io.vertx.core.Future;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * The last net for a lost change record: a log with subscribers reads every row it follows again
 * about once per hold period ({@code router.livePollTimeoutMs}, jittered so logs opened together
 * spread out), at most once per log and period whatever the number of clients; and every log with
 * subscribers is read again, repeatedly for a while, when the cluster's membership changes, since
 * records published across the change, and until the cluster's subscriptions settle, may be lost.
 */
final class Backstops {

  private final RouterSettings settings;
  private final Scheduler scheduler;
  private final FeedLogs logs;
  private final FeedReads reads;
  private final FanOut fanOut;
  /** Commits what a read offered as the log's next entry and fans it out. */
  private final Consumer<LiveLog> grow;
  /** Until when logs are read again every {@code router.resyncEveryMs} (see {@link #resync}). */
  private long resyncUntilMs = Long.MIN_VALUE;
  /** Logs whose resync read is in flight: a slow read is not stacked with another. */
  private final Set<LiveLog> resyncReading = new HashSet<>();

  Backstops(RouterSettings settings, Scheduler scheduler, FeedLogs logs, FeedReads reads, FanOut fanOut, Consumer<LiveLog> grow) {
    this.settings = settings;
    this.scheduler = scheduler;
    this.logs = logs;
    this.reads = reads;
    this.fanOut = fanOut;
    this.grow = grow;
  }

  /** A held poll's hold ended: unless the log had a backstop read within the hold, one runs now. */
  Future<Void> holdEnded(LiveLog live) {
    long now = scheduler.nowMs();
    double minGap = settings.livePollTimeoutMs() * (1 - settings.livePollJitter());
    if (live.sinceBackstopMs(now) < minGap) {
      return Future.succeededFuture();
    }
    live.backstopped(now);
    return read(live);
  }

  /** Once a second: logs that SSE sessions follow (they hold no poll whose end would run one) are read when their period is up. */
  void tick() {
    long now = scheduler.nowMs();
    for (LiveLog live : logs.all()) {
      if (live.isOpen() && fanOut.followed(live) && live.sinceBackstopMs(now) >= period()) {
        live.backstopped(now);
        read(live);
      }
    }
  }

  /**
   * The cluster's membership changed, or this node was frozen: records published across the change
   * may be lost (a member cut off saw none of the other side's, and they none of its; a killed
   * member's last writes may never have been announced). Every log with subscribers is read now,
   * and once more when the replica has applied what was committed before the change. Records can
   * go missing for a while after the change too: a member that merges back re-registers its
   * consumers, and the others learn of them, seconds later; a frozen member that the others
   * dropped gets none of their records until Hazelcast notices the split and merges it back (up
   * to its heartbeat timeout after it resumes). So for {@code router.resyncWindowMs} after the
   * change, every log with subscribers is read again every {@code router.resyncEveryMs}: a change
   * whose record was lost reaches its clients within that period plus the replica's lag.
   */
  void resync(long lagMs) {
    long now = scheduler.nowMs();
    for (LiveLog live : logs.all()) {
      if (live.isOpen() && fanOut.listened(live)) {
        live.backstopped(now);
        read(live);
        scheduler.after(lagMs + settings.marginMs(), () -> read(live));
      }
    }
    if (settings.resyncWindowMs() > 0) {
      boolean running = now < resyncUntilMs;
      resyncUntilMs = Math.max(resyncUntilMs, now + settings.resyncWindowMs());
      if (!running) {
        scheduler.after(settings.resyncEveryMs(), this::resyncRound);
      }
    }
  }

  /** Whether logs are being read again after a membership change (see {@link #resync}). */
  boolean resyncing() {
    return scheduler.nowMs() < resyncUntilMs;
  }

  private void resyncRound() {
    long now = scheduler.nowMs();
    for (LiveLog live : logs.all()) {
      if (live.isOpen() && fanOut.listened(live) && resyncReading.add(live)) {
        live.backstopped(now);
        read(live).onComplete(ar -> resyncReading.remove(live));
      }
    }
    if (now < resyncUntilMs) {
      scheduler.after(settings.resyncEveryMs(), this::resyncRound);
    }
  }

  /**
   * Reads every row the log follows and offers them: a change whose record was lost arrives here.
   * Runs the log holds that the read no longer returns (they left a status filter, or fell out of
   * the feed's run limit) are read by id, so that a run that left is sent as leaving.
   */
  Future<Void> read(LiveLog live) {
    if (!logs.current(live)) {
      return Future.succeededFuture();
    }
    EnvFeeds env = live.env;
    FeedLog log = live.log;
    return reads.read(env, log.filter).compose(rows -> {
      Set<String> seen = new HashSet<>();
      for (RunRow row : rows) {
        seen.add(row.runId());
        log.offer(row);
      }
      Set<String> vanished = new HashSet<>(log.runs());
      vanished.removeAll(seen);
      if (log.filter instanceof FeedFilter.Run || vanished.isEmpty()) {
        return Future.succeededFuture(List.<RunRow>of());
      }
      return reads.readRuns(env, vanished).recover(e -> Future.succeededFuture(List.of()));
    }).map(left -> {
      left.forEach(log::offer);
      if (logs.current(live)) {
        grow.accept(live);
        fanOut.flush();
      }
      return (Void) null;
    }).recover(e -> Future.succeededFuture());
  }

  /** A followed log's backstop period: the live-poll hold, jittered. */
  private long period() {
    double jitter = settings.livePollJitter() * (ThreadLocalRandom.current().nextDouble() * 2 - 1);
    return Math.max(1, Math.round(settings.livePollTimeoutMs() * (1 + jitter)));
  }
}
