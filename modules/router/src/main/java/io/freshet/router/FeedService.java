package io.freshet.router;

import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.ShapeHandle;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.Ids;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * One router instance's feeds: the shared logs and the requests of the web edge about them. A feed
 * request names a log by its filter (open) or its handle (poll, watch); logs of one environment,
 * filter and column set are shared by every client following them. Each request is a pipeline of
 * named steps: find the log, check that the handle belongs to the feed the request names, locate
 * the client's offset, then answer, hold, or register for pushes.
 *
 * <p>When an environment's pipeline settles rows, each log they concern takes them
 * ({@link FeedLog#offer}), commits one entry, and that entry's slice answers every poll held on the
 * log and is pushed to every sink watching it. A log with subscribers gets a backstop read every
 * {@code livePollTimeoutMs} (±jitter): the last net for a lost change record.
 */
public final class FeedService {

  /** Subscribing this router to an environment's change records. */
  public interface Subscriptions {
    /** Completes once records published anywhere in the cluster reach this router. */
    io.vertx.core.Future<Void> subscribe(String envId);

    void unsubscribe(String envId);
  }

  private record LogKey(String envId, FeedFilter filter, Set<RunColumn> columns) {}

  /** How long a sink's registration lives without a refresh (sinks refresh every few seconds). */
  static final long SINK_TTL_MS = 15_000;

  private final String nodeId;
  private final int index;
  private final RouterSettings settings;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final RunSource source;
  private final LagView lag;
  private final RouterMetrics metrics;
  private final PrimaryFallbackBudget budget;
  private final Subscriptions subscriptions;
  private final FeedReads reads;
  private final HeldPolls held;
  private final WatchingSinks sinks;

  private final Map<String, EnvFeeds> envs = new HashMap<>();
  private final Map<String, LiveLog> byHandle = new HashMap<>();
  private final Map<LogKey, LiveLog> byKey = new HashMap<>();
  /** Logs whose snapshot waits for changes on their way. */
  private final Set<LiveLog> opening = new HashSet<>();
  private long serial;

  public FeedService(String nodeId, int index, RouterSettings settings, LongSupplier clock, Scheduler scheduler,
      RunSource source, LagView lag, RouterMetrics metrics, PrimaryFallbackBudget budget, Subscriptions subscriptions,
      WatchingSinks.Pusher pusher) {
    this.nodeId = nodeId;
    this.index = index;
    this.settings = settings;
    this.clock = clock;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.metrics = metrics;
    this.budget = budget;
    this.subscriptions = subscriptions;
    this.reads = new FeedReads(source, budget, metrics, settings.maxRunsPerFeed());
    this.held = new HeldPolls(scheduler);
    this.sinks = new WatchingSinks(pusher);
    lag.listen(new LagView.Listener() {
      @Override
      public void estimateChanged(long lagMs) {
        envs.values().forEach(env -> env.pipeline.onEstimateChanged());
      }

      @Override
      public void replicaProgressed(Long replayedAtMs) {
        envs.values().forEach(env -> env.pipeline.onReplicaProgress(replayedAtMs));
      }
    });
  }

  // --- requests ----------------------------------------------------------------------------------

  /** Joins the feed's log (creating it, with its snapshot, when it does not exist) and answers with the snapshot. */
  public void open(FeedProtocol.Open request, PollReply reply) {
    FeedProtocol.FeedRef feed = request.feed();
    LogKey key = new LogKey(feed.envId(), feed.filter(), feed.columns());
    long now = clock.getAsLong();
    lag.touch();
    LiveLog live = byKey.get(key);
    if (live != null && live.log.handle.equals(request.expiredHandle())) {
      // The client was told this handle is gone (a node that could not reach this one answered
      // 409) and must never be handed it again: newcomers get a fresh log; the old one keeps
      // serving its clients by handle until it idles out.
      byKey.remove(key);
      live = null;
    }
    if (live != null) {
      live.touch(now);
      if (live.isOpen()) {
        answerOpen(live, new LiveLog.Waiter(reply, request.skipHistory()));
      } else {
        live.waitForSnapshot(new LiveLog.Waiter(reply, request.skipHistory()));
      }
      return;
    }
    EnvFeeds env = env(feed.envId());
    String local = Long.toString(++serial, 36) + "-" + Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 6);
    FeedLog log = new FeedLog(new ShapeHandle(nodeId, index, local).toString(), feed.envId(), feed.filter(), feed.columns(),
        settings.logRetention());
    LiveLog created = new LiveLog(log, env, now);
    created.waitForSnapshot(new LiveLog.Waiter(reply, request.skipHistory()));
    byKey.put(key, created);
    byHandle.put(log.handle, created);
    env.index.register(log);
    env.subscription().compose(v -> snapshot(created)).onComplete(ar -> {
      if (ar.failed()) {
        for (LiveLog.Waiter waiter : created.failOpening()) {
          fail(waiter.reply(), ar.cause());
        }
        drop(created);
      }
    });
  }

  /**
   * Reads the new log's rows and, when the replica lacks changes that are on their way (a run
   * created a moment ago, a change that reached the environment just before the log), waits for
   * them to be delivered before serving the snapshot, at most until the fallback would have read
   * them from the primary.
   */
  private io.vertx.core.Future<Void> snapshot(LiveLog live) {
    EnvFeeds env = live.env;
    FeedLog log = live.log;
    long readStartedAt = clock.getAsLong();
    return reads.read(env, log.filter).compose(rows -> {
      if (!rows.isEmpty()) {
        return io.vertx.core.Future.succeededFuture(rows);
      }
      if (log.filter instanceof FeedFilter.Run run) {
        // Missing on the replica: unknown, or created a moment ago and not applied there yet.
        return source.primaryRunVersion(env.envId, run.runId()).map(version -> {
          if (version == null) {
            throw FreshetException.notFound("run " + run.runId() + " not found");
          }
          live.await(run.runId(), version);
          env.pipeline.expect(run.runId(), version);
          return rows;
        });
      }
      if (log.filter instanceof FeedFilter.Batch batch) {
        return source.batchExists(env.envId, batch.batchId()).map(exists -> {
          if (!exists) {
            throw FreshetException.notFound("batch " + batch.batchId() + " not found");
          }
          return rows;
        });
      }
      return io.vertx.core.Future.succeededFuture(rows);
    }).compose(rows -> {
      if (rows.isEmpty() || !youngSubscription(env)) {
        return io.vertx.core.Future.succeededFuture(rows);
      }
      // Records from before this router subscribed to the environment are in no replay buffer
      // here (the first feed of an environment on this node; a client that refetched after its
      // node died): compare with the primary once, so the snapshot never shows a client an older
      // version than the one it was shown a moment ago elsewhere.
      return source.primaryRunVersions(env.envId, rows.stream().map(RunRow::runId).toList()).map(versions -> {
        for (RunRow row : rows) {
          Long committed = versions.get(row.runId());
          if (committed != null && committed > row.updatedAtMs()) {
            live.await(row.runId(), committed);
            env.pipeline.expect(row.runId(), committed);
          }
        }
        return rows;
      }).recover(e -> io.vertx.core.Future.succeededFuture(rows));
    }).<Void>map(rows -> {
      for (RunRow row : rows) {
        log.offer(row);
      }
      log.commit(true);
      // The snapshot came from a replica that may lag: changes that reached this environment just
      // before the log registered go through the gate again, and the snapshot waits for them.
      env.pipeline.replayFor(log.filter::mayMatch, readStartedAt - settings.replayWindowMs()).forEach(live::await);
      if (youngSubscription(env)) {
        // Records from before the subscription are not in the replay buffer: re-read once the
        // replica has applied everything committed before it.
        scheduler.schedule(lag.lagMs() + settings.marginMs(), () -> backstop(live));
      }
      if (live.settle(env.pipeline::hasPending)) {
        openLog(live);
      } else {
        opening.add(live);
        live.openTimer(scheduler.schedule(settings.freshWithinMs() + settings.maxDelayMs(), () -> openLog(live)));
      }
      return null;
    });
  }

  /** Whether the environment's records have reached this router for less than the replay window. */
  private boolean youngSubscription(EnvFeeds env) {
    return env.subscribedAtMs() < 0 || clock.getAsLong() - env.subscribedAtMs() < settings.replayWindowMs();
  }

  private void openLog(LiveLog live) {
    if (live.isOpen() || byHandle.get(live.log.handle) != live) {
      return;
    }
    scheduler.cancel(live.openTimer());
    opening.remove(live);
    long now = clock.getAsLong();
    for (LiveLog.Waiter waiter : live.open(now)) {
      answerOpen(live, waiter);
    }
  }

  private static void answerOpen(LiveLog live, LiveLog.Waiter waiter) {
    waiter.reply().answer(live.log.handle, waiter.skipHistory() ? LogSlice.unchanged(live.log.seq()) : live.log.snapshot());
  }

  /** What the client at the poll's offset has not seen; held until the log grows when live and current. */
  public void poll(FeedProtocol.Poll request, PollReply reply) {
    LiveLog live = served(request.handle(), request.feed(), reply);
    if (live == null) {
      return;
    }
    lag.touch();
    FeedLog log = live.log;
    FeedLog.Position position = log.at(request.offset());
    if (position instanceof FeedLog.Behind behind) {
      reply.answer(log.handle, behind.slice());
    } else if (position instanceof FeedLog.Current) {
      if (!request.live()) {
        reply.answer(log.handle, LogSlice.unchanged(log.seq()));
        return;
      }
      String pollId = request.pollId();
      held.hold(log, pollId, reply, Math.max(1, request.holdMs()), () -> holdEnded(live, pollId));
    } else {
      refuseOffset(log, position, request.offset(), reply);
    }
  }

  /** The client of a held poll went away. */
  public void cancel(FeedProtocol.Cancel request) {
    LiveLog live = byHandle.get(request.handle());
    if (live != null) {
      HeldPolls.Held h = held.release(live.log, request.pollId());
      if (h != null) {
        metrics.livePoll("cancelled");
        h.reply().answer(live.log.handle, LogSlice.unchanged(live.log.seq()));
      }
    }
  }

  /** An SSE session starts watching: what it missed now, every later entry pushed to its sink. */
  public void watch(FeedProtocol.Watch request, PollReply reply) {
    LiveLog live = served(request.handle(), request.feed(), reply);
    if (live == null) {
      return;
    }
    lag.touch();
    FeedLog log = live.log;
    FeedLog.Position position = log.at(request.offset());
    if (position instanceof FeedLog.Ahead || position instanceof FeedLog.TooOld) {
      refuseOffset(log, position, request.offset(), reply);
      return;
    }
    sinks.watch(log, request.sink(), clock.getAsLong());
    reply.answer(log.handle, position instanceof FeedLog.Behind behind ? behind.slice() : LogSlice.unchanged(log.seq()));
  }

  public void unwatch(FeedProtocol.Unwatch request) {
    LiveLog live = byHandle.get(request.handle());
    if (live != null) {
      sinks.unwatch(live.log, request.sink());
      live.touch(clock.getAsLong());
    }
  }

  /** A sink's proof of life for the logs it watches; returns the handles this router no longer has. */
  public FeedProtocol.Refreshed refresh(FeedProtocol.Refresh request) {
    long now = clock.getAsLong();
    List<String> unknown = new ArrayList<>();
    for (String handle : request.handles()) {
      LiveLog live = byHandle.get(handle);
      if (live == null || !sinks.refresh(live.log, request.sink(), now)) {
        unknown.add(handle);
      } else {
        live.touch(now);
      }
    }
    return new FeedProtocol.Refreshed(unknown);
  }

  /** The log a request names by handle, if it is open and belongs to the feed the request names. */
  private LiveLog served(String handle, FeedProtocol.FeedRef feed, PollReply reply) {
    LiveLog live = byHandle.get(handle);
    if (live == null || !live.isOpen()) {
      reply.fail(409, "handle is no longer known; refetch");
      return null;
    }
    // A handle is only good for the environment, the feed and the columns it was opened for: never
    // let a caller read another environment's rows, or another feed than its URL (and token) names.
    FeedLog log = live.log;
    if (!log.envId.equals(feed.envId()) || !log.filter.sameFeedAs(feed.filter()) || !log.columns.equals(feed.columns())) {
      reply.fail(409, "handle does not belong to this feed; refetch");
      return null;
    }
    live.touch(clock.getAsLong());
    return live;
  }

  private static void refuseOffset(FeedLog log, FeedLog.Position position, long offset, PollReply reply) {
    if (position instanceof FeedLog.Ahead) {
      reply.fail(400, "offset " + offset + "_0 is ahead of this handle");
    } else {
      reply.fail(409, "offset " + offset + "_0 is too old for this handle; refetch");
    }
  }

  /**
   * A held poll's hold ended. Unless the log had a backstop read within the hold, one runs now and
   * answers it (the last net for a lost change record): at most one per log and hold period,
   * whatever the number of clients.
   */
  private void holdEnded(LiveLog live, String pollId) {
    long now = clock.getAsLong();
    double minGap = settings.livePollTimeoutMs() * (1 - settings.livePollJitter());
    if (live.sinceBackstopMs(now) < minGap) {
      endHold(live, pollId, "timeout");
      return;
    }
    live.backstopped(now);
    backstop(live).onComplete(ar -> endHold(live, pollId, "timeout"));
  }

  private void endHold(LiveLog live, String pollId, String outcome) {
    HeldPolls.Held h = held.release(live.log, pollId);
    if (h != null) {
      metrics.livePoll(outcome);
      h.reply().answer(live.log.handle, LogSlice.unchanged(live.log.seq()));
    }
  }

  // --- change records and their rows -------------------------------------------------------------

  public void onRecord(ChangeRecord record) {
    EnvFeeds env = envs.get(record.envId());
    if (env != null) {
      env.pipeline.onRecord(record);
    }
  }

  /** Settled rows of one environment: each log they concern takes them, grows, and fans out. */
  private void deliver(EnvFeeds env, List<EnvPipeline.Delivered> rows) {
    Set<FeedLog> touched = new LinkedHashSet<>();
    long now = clock.getAsLong();
    for (EnvPipeline.Delivered delivered : rows) {
      boolean any = false;
      for (FeedLog log : env.index.candidates(delivered.row())) {
        if (log.offer(delivered.row())) {
          touched.add(log);
          any = true;
        }
      }
      if (any && delivered.oldestWatermarkMs() != null) {
        // From the commit of the oldest change this delivery carries: what a client waited.
        metrics.deliveryLag(now - delivered.oldestWatermarkMs());
      }
    }
    for (FeedLog log : touched) {
      grow(byHandle.get(log.handle), log);
    }
    sinks.flush();
  }

  private void grow(LiveLog live, FeedLog log) {
    LogSlice slice = log.commit(false);
    if (slice == null || live == null) {
      return;
    }
    int answered = held.answer(log, slice);
    for (int i = 0; i < answered; i++) {
      metrics.livePoll("delivered");
    }
    sinks.grew(log, slice);
    if (!live.isOpen() && live.settle(live.env.pipeline::hasPending)) {
      openLog(live);
    }
  }

  /** The pipeline settled a run: snapshots that waited for it may be served now. */
  private void settled(EnvFeeds env, String runId) {
    for (LiveLog live : List.copyOf(opening)) {
      if (live.env == env && live.awaits(runId) && live.settle(env.pipeline::hasPending)) {
        openLog(live);
      }
    }
  }

  // --- backstops and expiry ----------------------------------------------------------------------

  /**
   * Call about once a second: backstop reads for logs that SSE sessions watch (they hold no poll
   * whose end would run one), and a touch of the lag sampler while anyone is subscribed.
   */
  public void tick() {
    long now = clock.getAsLong();
    boolean active = false;
    for (LiveLog live : List.copyOf(byHandle.values())) {
      if (!live.isOpen()) {
        continue;
      }
      boolean watched = sinks.any(live.log);
      active |= watched || held.any(live.log);
      if (watched && live.sinceBackstopMs(now) >= backstopPeriod()) {
        live.backstopped(now);
        backstop(live);
      }
    }
    for (EnvFeeds env : envs.values()) {
      active |= env.pipeline.pendingCount() > 0;
    }
    if (active) {
      lag.touch();
    }
  }

  /**
   * The cluster's membership changed: records published across the change may be lost (a member
   * cut off and merged back saw none of the other side's, and they none of its; a killed member's
   * last writes may never have been announced). Every log with subscribers is read now and once
   * more when the replica has applied what was committed before the change.
   */
  public void resync() {
    long now = clock.getAsLong();
    for (LiveLog live : List.copyOf(byHandle.values())) {
      if (live.isOpen() && (sinks.any(live.log) || held.any(live.log))) {
        live.backstopped(now);
        backstop(live);
        scheduler.schedule(lag.lagMs() + settings.marginMs(), () -> backstop(live));
      }
    }
  }

  /**
   * Reads every row the log follows and offers them: a change whose record was lost arrives here.
   * Runs the log holds that the read no longer returns (they left a status filter, or fell out of
   * the feed's run limit) are read by id, so that a run that left is sent as leaving.
   */
  private io.vertx.core.Future<Void> backstop(LiveLog live) {
    if (byHandle.get(live.log.handle) != live) {
      return io.vertx.core.Future.succeededFuture();
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
        return io.vertx.core.Future.succeededFuture(List.<RunRow>of());
      }
      return reads.readRuns(env, vanished).recover(e -> io.vertx.core.Future.succeededFuture(List.of()));
    }).map(left -> {
      left.forEach(log::offer);
      if (byHandle.get(log.handle) == live) {
        grow(live, log);
        sinks.flush();
      }
      return (Void) null;
    }).recover(e -> io.vertx.core.Future.succeededFuture());
  }

  /** The backstop period of a watched log: the live-poll hold, jittered so that logs opened together spread out. */
  private long backstopPeriod() {
    double jitter = settings.livePollJitter() * (ThreadLocalRandom.current().nextDouble() * 2 - 1);
    return Math.max(1, Math.round(settings.livePollTimeoutMs() * (1 + jitter)));
  }

  /** Drops logs nobody has used for the idle TTL, and sink registrations nobody refreshed; call periodically. */
  public void sweep() {
    long now = clock.getAsLong();
    sinks.expire(now - SINK_TTL_MS);
    for (LiveLog live : List.copyOf(byHandle.values())) {
      if (live.isOpen() && !held.any(live.log) && !sinks.any(live.log)
          && now - live.lastActivityMs() > settings.shapeIdleTtlMs()) {
        drop(live);
      }
    }
  }

  public int logs() {
    return byHandle.size();
  }

  public int heldPolls() {
    return held.count();
  }

  public int watchingSinks() {
    return sinks.registrations();
  }

  public int environments() {
    return envs.size();
  }

  public int watchedRuns() {
    return envs.values().stream().mapToInt(env -> env.pipeline.watchedCount()).sum();
  }

  // --- internals ---------------------------------------------------------------------------------

  private EnvFeeds env(String envId) {
    EnvFeeds env = envs.get(envId);
    if (env == null) {
      EnvFeeds created = new EnvFeeds(envId,
          e -> new EnvPipeline(envId, settings, clock, scheduler, source, lag, metrics, budget,
              record -> !e.index.candidates(record).isEmpty(), new EnvPipeline.Output() {
                @Override
                public void deliver(List<EnvPipeline.Delivered> rows) {
                  FeedService.this.deliver(e, rows);
                }

                @Override
                public void settled(String runId) {
                  FeedService.this.settled(e, runId);
                }
              }),
          e -> reads.batcher(envId, scheduler, settings.hydrateBatchMax()));
      created.subscribing(subscriptions.subscribe(envId), clock);
      created.subscription().onFailure(e -> {
        if (envs.get(envId) == created) {
          envs.remove(envId);
        }
      });
      envs.put(envId, created);
      env = created;
    }
    if (env.lingerTimer() >= 0) {
      scheduler.cancel(env.lingerTimer());
      env.lingerTimer(-1);
    }
    return env;
  }

  private void drop(LiveLog live) {
    FeedLog log = live.log;
    if (byHandle.get(log.handle) != live) {
      return;
    }
    scheduler.cancel(live.openTimer());
    opening.remove(live);
    held.releaseAll(log);
    sinks.dropAll(log);
    byHandle.remove(log.handle);
    byKey.remove(new LogKey(log.envId, log.filter, log.columns), live);
    EnvFeeds env = live.env;
    env.index.unregister(log);
    if (env.index.isEmpty() && env.lingerTimer() < 0) {
      env.lingerTimer(scheduler.schedule(settings.lingerMs(), () -> {
        env.lingerTimer(-1);
        if (env.index.isEmpty() && envs.get(env.envId) == env) {
          envs.remove(env.envId);
          subscriptions.unsubscribe(env.envId);
        }
      }));
    }
  }

  private static void fail(PollReply reply, Throwable cause) {
    if (cause instanceof FreshetException fe) {
      reply.fail(fe.status(), fe.getMessage());
    } else {
      reply.fail(503, "feed read failed: " + cause.getMessage());
    }
  }
}
