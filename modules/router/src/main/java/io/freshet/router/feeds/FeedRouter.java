package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.Scheduler;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.RouterSettings;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.GatedReads;
import io.freshet.router.engine.LagView;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.router.push.Sinks;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One router instance's run feeds, as its verticle drives them: change records in, feed requests
 * from the web edge, and the periodic backstop and expiry. It wires the parts, each with one job:
 * {@link FeedLogs} (which logs exist), {@link FeedRequests} (open, poll, follow, refresh),
 * {@link Snapshots} (a new log's snapshot made current), each environment's {@link GatedReads}
 * (records to fresh rows), {@link FanOut} (held polls and sinks hear of growth) and
 * {@link Backstops} (the net for lost records).
 *
 * <p>A settled row goes to every log of its environment it may concern ({@link FeedLog#offer}),
 * each commits one entry, and that entry's slice answers every poll held on the log and is pushed
 * to every sink following it. Not thread-safe: it lives on its router's event loop.
 */
public final class FeedRouter {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FeedRouter.class);

  /** How long a sink's registration lives without a refresh (sinks refresh every few seconds). */
  static final long SINK_TTL_MS = 15_000;

  private final RouterSettings settings;
  private final Scheduler scheduler;
  private final LagView lag;
  private final RouterMetrics metrics;
  private final FeedLogs logs;
  private final FanOut fanOut;
  private final Snapshots snapshots;
  private final Backstops backstops;
  private final FeedRequests requests;

  public FeedRouter(String nodeId, int index, RouterSettings settings, Scheduler scheduler, RunSource source, LagView lag,
      RouterMetrics metrics, PrimaryFallbackBudget budget, EnvSubscriptions subscriptions, Sinks.Sender pushes) {
    this.settings = settings;
    this.scheduler = scheduler;
    this.lag = lag;
    this.metrics = metrics;
    FeedReads reads = new FeedReads(source, budget, metrics, settings.maxRunsPerFeed());
    this.logs = new FeedLogs(nodeId, index, settings.logRetention(), settings.lingerMs(), settings.maxFeedsPerEnv(),
        settings.maxFeedsPerToken(), scheduler, subscriptions,
        envId -> new EnvFeeds(envId,
            new GatedReads<>(settings.policy(), settings.checksRows(), settings.runLimits(), scheduler, new RunReadSource(envId, source),
                lag, budget, metrics.engine(), round -> settled(envId, round)),
            new ReplayBuffer(settings.replayWindowMs(), settings.replayMaxRuns()),
            reads.batcher(envId, scheduler, settings.hydrateBatchMax()), scheduler), metrics::feedRefused);
    this.fanOut = new FanOut(new HeldPolls(scheduler), new Sinks(pushes), metrics);
    this.backstops = new Backstops(settings, scheduler, logs, reads, fanOut, this::grow);
    this.snapshots = new Snapshots(settings, scheduler, reads, source, lag, live -> backstops.read(live), logs::current);
    this.requests = new FeedRequests(scheduler, logs, snapshots, fanOut, backstops, lag, metrics, this::drop);
    lag.listen(new LagView.Listener() {
      @Override
      public void estimateChanged(long lagMs) {
        logs.envs().forEach(env -> env.reads.estimateChanged());
      }

      @Override
      public void replicaProgressed(Long replayedAtMs) {
        logs.envs().forEach(env -> env.reads.replicaProgressed(replayedAtMs));
      }
    });
  }

  // --- records and requests ----------------------------------------------------------------------

  public void onRecord(ChangeRecord record) {
    dropIfFrozen();
    metrics.record();
    EnvFeeds env = logs.existingEnv(record.envId());
    if (env != null && env.onRecord(record, carried(record))) {
      lag.touch();
    }
  }

  /** The committed row the record carried, when this node serves it (its mode, its size); else null. */
  private RunRow carried(ChangeRecord record) {
    return record.hasRow() && settings.servesCarried(record.row().sizeBytes()) ? RunRow.fromRecord(record) : null;
  }

  public void open(FeedProtocol.Open request, PollReply reply) {
    dropIfFrozen();
    requests.open(request, reply);
  }

  public void poll(FeedProtocol.Poll request, PollReply reply) {
    dropIfFrozen();
    requests.poll(request, reply);
  }

  public void cancel(FeedProtocol.Cancel request) {
    requests.cancel(request);
  }

  /** Throws a {@link io.freshet.core.FreshetException} (409, 400) when the log cannot be followed from there. */
  public PushProtocol.Caught follow(PushProtocol.FeedLog log, long offset, String sink) {
    dropIfFrozen();
    return requests.follow(log, offset, sink);
  }

  public void unfollow(PushProtocol.Unfollow request) {
    requests.unfollow(request);
  }

  public PushProtocol.Refreshed refresh(PushProtocol.Refresh request) {
    return requests.refresh(request);
  }

  // --- settled rows ------------------------------------------------------------------------------

  /** What an environment's gated reads settled: each log the rows concern takes them, grows, and fans out. */
  private void settled(String envId, GatedReads.Round<String, RunRow> round) {
    EnvFeeds env = logs.existingEnv(envId);
    if (env == null) {
      return; // the environment's last log went while its reads were in flight
    }
    Set<FeedLog> touched = new LinkedHashSet<>();
    long now = scheduler.nowMs();
    for (GatedReads.Settled<String, RunRow> settled : round.values()) {
      boolean any = false;
      for (FeedLog log : env.index.candidates(settled.value())) {
        if (log.offer(settled.value())) {
          touched.add(log);
          any = true;
        }
      }
      if (any && settled.oldestWatermarkMs() != null) {
        // From the commit of the oldest change this delivery carries: what a client waited.
        metrics.deliveryLag(now - settled.oldestWatermarkMs());
      }
    }
    for (FeedLog log : touched) {
      LiveLog live = logs.byHandle(log.handle);
      if (live != null) {
        grow(live);
      }
    }
    fanOut.flush();
    snapshots.settled(env, round.settled());
  }

  /** Commits what the log was offered as its next entry, and tells whoever listens. */
  private void grow(LiveLog live) {
    if (live.frozen()) {
      return;
    }
    LogSlice slice = live.log.commit(false);
    if (slice == null) {
      return;
    }
    fanOut.grew(live, slice);
    snapshots.grew(live);
  }

  private void drop(LiveLog live) {
    if (!logs.current(live)) {
      return;
    }
    snapshots.abandon(live);
    fanOut.release(live);
    logs.remove(live);
  }

  // --- handing logs over at a graceful stop --------------------------------------------------------

  /**
   * Every open log as this router would hand it to another node (what was offered is committed and
   * fanned out first, so nothing staged is lost).
   */
  public List<FeedProtocol.Handover> handovers() {
    List<FeedProtocol.Handover> out = new ArrayList<>();
    for (LiveLog live : logs.all()) {
      if (live.isOpen()) {
        grow(live);
        out.add(live.log.handover(fanOut.sinks().following(live.handle())));
        // Frozen from here: it commits nothing more, so no client gets an entry here that the new
        // owner, continuing from the offset handed over, would number differently.
        live.freeze();
        live.env.index.unregister(live.log);
      }
    }
    fanOut.flush();
    return out;
  }

  /**
   * {@code handle} is served by another node now: its held polls are answered as they are (their
   * clients poll again, and the edge finds the new owner), its sinks forgotten, the log dropped.
   */
  public void handedOver(String handle) {
    LiveLog live = logs.byHandle(handle);
    if (live != null) {
      drop(live);
    }
  }

  /** The sinks whose SSE sessions follow {@code handle}: told where it went, they follow it there. */
  public Set<String> sinksOf(String handle) {
    return fanOut.sinks().following(handle);
  }

  /**
   * Serves a log another node handed over, under its handle, from the offset it reached, pushing to
   * the sinks that followed it there. A router already following the log's environment heard every
   * record the old owner did; one that was not reads the log once subscribed, and again once the
   * replica has applied what was committed meanwhile. False when this router already serves that handle.
   */
  public boolean adopt(FeedProtocol.Handover handover) {
    boolean following = logs.existingEnv(handover.feed().envId()) != null;
    LiveLog live = logs.adopt(FeedLog.adopted(handover, settings.logRetention()));
    if (live == null) {
      return false;
    }
    live.open(scheduler);
    long now = scheduler.nowMs();
    handover.sinks().forEach(sink -> fanOut.sinks().follow(live.handle(), sink, now));
    live.backstopped(now);
    if (!following) {
      // This router did not hear the environment's records until now: read what it may have missed,
      // once subscribed, and again once the replica has applied what was committed meanwhile.
      live.env.subscription().onSuccess(v -> {
        backstops.read(live);
        scheduler.after(lag.lagMs() + settings.marginMs(), () -> backstops.read(live));
      });
    }
    return true;
  }

  // --- housekeeping ------------------------------------------------------------------------------

  /**
   * A second between ticks that stretched past this means the node did not run meanwhile (frozen:
   * SIGSTOP, a stalled VM, a very long pause): see {@link #tick()}.
   */
  static final long FROZEN_AFTER_MS = 5_000;

  private long lastTickMs = Long.MIN_VALUE;

  /**
   * Once a second: backstop reads of followed logs, and a touch of the lag sampler while anyone
   * listens. A tick that comes {@link #FROZEN_AFTER_MS} after the previous one finds a node that was
   * frozen: the cluster went on without it (records it never got, clients that refetched
   * elsewhere), so its logs hold what it knew before and would show a client older content than
   * it has already seen. They are dropped: their clients refetch a current snapshot, and the logs
   * opened from then on are read again as after a membership change ({@link #resync()}).
   */
  public void tick() {
    long now = scheduler.nowMs();
    dropIfFrozen();
    lastTickMs = now;
    backstops.tick();
    boolean active = false;
    for (LiveLog live : logs.all()) {
      active |= live.isOpen() && fanOut.listened(live);
    }
    for (EnvFeeds env : logs.envs()) {
      active |= env.reads.pendingCount() > 0;
    }
    if (active) {
      lag.touch();
    }
  }

  /**
   * The freeze check of {@link #tick()}, run first by whatever wakes the router: on resuming, the
   * records that queued up while the node was frozen (those published before the others dropped
   * it, carrying rows long superseded) are handled before the overdue tick, and held polls of the
   * old logs were answered with them; requests queued meanwhile too.
   */
  private void dropIfFrozen() {
    long now = scheduler.nowMs();
    if (lastTickMs == Long.MIN_VALUE || now - lastTickMs < FROZEN_AFTER_MS) {
      return;
    }
    long frozenMs = now - lastTickMs;
    lastTickMs = now;
    List<LiveLog> stale = logs.all();
    stale.forEach(this::drop);
    fanOut.flush();
    if (!stale.isEmpty()) {
      LOG.warn("this router did not run for {} ms (the node was frozen): dropped its {} feed logs, whose clients refetch",
          frozenMs, stale.size());
    }
    // The others may have dropped this member meanwhile: it gets none of their records until
    // Hazelcast notices and merges it back, and no membership event says so here until then.
    // The logs its clients open again are read over and over until that has surely happened.
    resync();
  }

  /** The cluster's membership changed: every log with subscribers is read again, repeatedly for a while (see {@link Backstops#resync}). */
  public void resync() {
    backstops.resync(lag.lagMs());
  }

  /** Drops logs nobody has used for the idle TTL, and sink registrations nobody refreshed; call periodically. */
  public void sweep() {
    long now = scheduler.nowMs();
    fanOut.sinks().expire(now - SINK_TTL_MS);
    for (LiveLog live : logs.all()) {
      if (live.isOpen() && !fanOut.listened(live) && now - live.lastActivityMs() > settings.shapeIdleTtlMs()) {
        drop(live);
      }
    }
  }

  public int logs() {
    return logs.size();
  }

  public int heldPolls() {
    return fanOut.held().count();
  }

  public int followingSinks() {
    return fanOut.sinks().registrations();
  }

  public int watchedRuns() {
    return logs.envs().stream().mapToInt(env -> env.reads.watchedCount()).sum();
  }
}
