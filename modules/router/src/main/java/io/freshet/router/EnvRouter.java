package io.freshet.router;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One environment on one router: its held feeds, indexed by run, tag and batch; the records waiting
 * for their gated hydrate; and the tripwire that withholds rows read before the replica applied
 * their write. All of it runs on the router's event loop.
 *
 * <p>Flow of a record: {@link #onRecord} → pending (one entry per run, latest watermark wins) → a
 * single timer fires at the earliest due time → one batched hydrate per wake → the tripwire splits
 * fresh from stale → fresh rows are offered to candidate feeds, stale runs are re-pended on a retry
 * timer → after {@code staleRetries} the row is delivered anyway and echo re-hydrates follow until
 * a read is fresh.
 */
final class EnvRouter {

  enum Reason { WAKE, RETRY, ECHO }

  /**
   * A run waiting for its hydrate. It keeps every outstanding watermark and is gated on the oldest:
   * a newer change never postpones an older one, so a run written faster than the replica applies
   * still gets each change delivered as soon as it is safe, not only after the writes stop.
   */
  private static final class PendingRun {
    /** Watermark → when its record arrived. */
    final TreeMap<Long, Long> watermarks = new TreeMap<>();
    /** A record without a watermark is waiting: hydrate on arrival, no tripwire. */
    boolean unstamped;
    long unstampedAtMs;
    int attempt;
    Reason reason = Reason.WAKE;
    /** Set for retries and echoes; -1 means "from the oldest watermark". */
    long dueAtMs = -1;

    Long gatedOn() {
      return watermarks.isEmpty() ? null : watermarks.firstKey();
    }

    void add(Long watermark, long nowMs) {
      if (watermark == null) {
        if (!unstamped) {
          unstamped = true;
          unstampedAtMs = nowMs;
        }
        return;
      }
      watermarks.putIfAbsent(watermark, nowMs);
      if (watermarks.size() > MAX_WATERMARKS) {
        // Keep the oldest (the one gated on) and the newest; the ones between add nothing.
        watermarks.remove(watermarks.higherKey(watermarks.firstKey()));
      }
    }

    /** Watermarks this read satisfied are done; returns whether any remain. */
    boolean satisfiedUpTo(long version) {
      watermarks.headMap(version, true).clear();
      return !watermarks.isEmpty();
    }

    void restart() {
      attempt = 0;
      reason = Reason.WAKE;
      dueAtMs = -1;
    }
  }

  private static final int MAX_WATERMARKS = 64;

  final String envId;
  private final RouterSettings settings;
  private final ReplicaLagGate gate;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final RunSource source;
  private final LagView lag;
  private final RouterMetrics metrics;
  private final Consumer<Shape> onPending;

  private final FeedIndex feeds = new FeedIndex();

  private final ReplayBuffer replay;
  private final Map<String, PendingRun> pending = new LinkedHashMap<>();
  private int inFlight;
  private long timerId = -1;
  private long timerAtMs = Long.MAX_VALUE;

  private final RunReadBatcher runReads;

  long subscribedAtMs = -1;
  Future<Void> subscription;
  long lingerTimer = -1;

  EnvRouter(String envId, RouterSettings settings, LongSupplier clock, Scheduler scheduler, RunSource source,
      LagView lag, RouterMetrics metrics, Consumer<Shape> onPending) {
    this.envId = envId;
    this.settings = settings;
    this.gate = settings.gate();
    this.clock = clock;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.metrics = metrics;
    this.onPending = onPending;
    this.replay = new ReplayBuffer(settings.replayWindowMs(), settings.replayMaxRuns());
    this.runReads = new RunReadBatcher(envId, source, scheduler, settings.hydrateBatchMax(), metrics);
  }

  // --- feeds -------------------------------------------------------------------------------------

  void register(Shape shape) {
    feeds.register(shape);
  }

  void unregister(Shape shape) {
    feeds.unregister(shape);
  }

  boolean isEmpty() {
    return feeds.isEmpty();
  }

  /** Offers rows to their feeds, then tells the router which feeds now have something to emit. */
  void deliver(Collection<RunRow> rows) {
    Set<Shape> touched = new HashSet<>();
    for (RunRow row : rows) {
      for (Shape shape : feeds.candidates(row)) {
        if (shape.offer(row)) {
          touched.add(shape);
        }
      }
    }
    touched.forEach(onPending);
  }

  // --- records -----------------------------------------------------------------------------------

  void onRecord(ChangeRecord record) {
    long now = clock.getAsLong();
    metrics.record();
    replay.add(record, now);
    if (feeds.candidates(record).isEmpty()) {
      return; // nobody follows it; kept for replay only
    }
    lag.touch();
    enqueue(record, now);
  }

  /** Re-runs recent records through the gate for a feed that registered after them. */
  void replayFor(Shape shape, long sinceMs) {
    long now = clock.getAsLong();
    for (ChangeRecord record : replay.since(sinceMs, now)) {
      if (shape.filter.mayMatch(record)) {
        enqueue(record, now);
      }
    }
  }

  /** Hydrates {@code runId} once its version {@code watermarkMs} is safe to read (a synthetic wake). */
  void expect(String runId, Long watermarkMs) {
    enqueue(new ChangeRecord(envId, runId, watermarkMs, null, null), clock.getAsLong());
  }

  private void enqueue(ChangeRecord record, long now) {
    PendingRun run = pending.computeIfAbsent(record.runId(), k -> new PendingRun());
    run.add(record.updatedAtMs(), now);
    // A new record can only pull the next wake earlier: compare its run's due time alone rather
    // than rescanning every pending run for each record.
    if (inFlight < settings.hydrateConcurrency()) {
      scheduleAt(dueAt(run));
    }
  }

  private void scheduleAt(long at) {
    if (timerId >= 0 && timerAtMs <= at) {
      return;
    }
    if (timerId >= 0) {
      scheduler.cancel(timerId);
    }
    timerAtMs = at;
    timerId = scheduler.schedule(Math.max(0, at - clock.getAsLong()), this::wake);
  }

  /** Puts a run back after a hydrate; merges with records that arrived for it meanwhile. */
  private void requeue(String runId, PendingRun p) {
    PendingRun arrived = pending.put(runId, p);
    if (arrived != null) {
      arrived.watermarks.forEach(p.watermarks::putIfAbsent);
      if (arrived.unstamped && !p.unstamped) {
        p.unstamped = true;
        p.unstampedAtMs = arrived.unstampedAtMs;
      }
    }
  }

  private long dueAt(PendingRun run) {
    long due = Long.MAX_VALUE;
    if (run.unstamped) {
      due = run.unstampedAtMs;
    }
    if (run.dueAtMs >= 0) {
      long scheduled = run.dueAtMs;
      Long oldest = run.gatedOn();
      if (run.reason == Reason.RETRY && oldest != null) {
        // A retry scheduled under a lower estimate waits for a higher one measured since, rather
        // than spending an attempt on a read that cannot be fresh yet.
        scheduled = Math.max(scheduled, gate.dueAt(oldest, run.watermarks.get(oldest), lag.lagMs()));
      }
      return Math.min(due, scheduled);
    }
    Long oldest = run.gatedOn();
    if (oldest != null) {
      due = Math.min(due, gate.dueAt(oldest, run.watermarks.get(oldest), lag.lagMs()));
    }
    return due;
  }

  private void reschedule() {
    if (pending.isEmpty() || inFlight >= settings.hydrateConcurrency()) {
      return; // a completing hydrate calls back in
    }
    long next = Long.MAX_VALUE;
    for (PendingRun run : pending.values()) {
      next = Math.min(next, dueAt(run));
    }
    scheduleAt(next);
  }

  /** The timer fired: hydrate every run that is due (or nearly), in one query per batch. */
  private void wake() {
    timerId = -1;
    timerAtMs = Long.MAX_VALUE;
    long now = clock.getAsLong();
    while (inFlight < settings.hydrateConcurrency()) {
      Map<String, PendingRun> batch = new LinkedHashMap<>();
      var it = pending.entrySet().iterator();
      while (it.hasNext() && batch.size() < settings.hydrateBatchMax()) {
        var entry = it.next();
        if (dueAt(entry.getValue()) <= now + settings.coalesceMs()) {
          batch.put(entry.getKey(), entry.getValue());
          it.remove();
        }
      }
      if (batch.isEmpty()) {
        break;
      }
      hydrate(batch, now);
    }
    reschedule();
  }

  private void hydrate(Map<String, PendingRun> batch, long startedAt) {
    inFlight++;
    String reason = batch.values().iterator().next().reason.name().toLowerCase();
    metrics.hydrateQuery(reason);
    for (PendingRun run : batch.values()) {
      Long oldest = run.gatedOn();
      if (run.reason == Reason.WAKE && oldest != null) {
        metrics.gateDelay(startedAt - run.watermarks.get(oldest));
      }
    }
    source.byIds(envId, batch.keySet()).onComplete(ar -> {
      inFlight--;
      if (ar.succeeded()) {
        Long replayedAt = ar.result().replayedAtMs();
        if (gate.checksRows() && replayedAt != null) {
          long endedAt = clock.getAsLong();
          // The replica had applied the commit at replayedAt by the time this read returned.
          lag.upperBound(Math.max(0, endedAt - replayedAt));
          lag.replayed(startedAt, endedAt, replayedAt);
        }
        settle(batch, ar.result().rows(), replayedAt, startedAt);
      } else {
        // A failed read is retried like a stale one; the backstop is the last net.
        long now = clock.getAsLong();
        batch.forEach((run, p) -> {
          p.attempt++;
          p.reason = Reason.RETRY;
          p.dueAtMs = now + gate.retryDelay(lag.lagMs());
          requeue(run, p);
        });
      }
      reschedule();
      if (timerId < 0 && !pending.isEmpty()) {
        wake();
      }
    });
  }

  /**
   * @param readStartedAt when the hydrate was sent: the replica had not applied a stale row's
   *     write by then, so {@code readStartedAt - watermark} is an honest lower bound on the lag
   *     (the completion time would add the query's own latency to every observation)
   */
  private void settle(Map<String, PendingRun> batch, List<RunRow> rows, Long replayedAtMs, long readStartedAt) {
    long now = clock.getAsLong();
    Map<String, RunRow> byId = new HashMap<>();
    for (RunRow row : rows) {
      byId.put(row.runId(), row);
    }
    Map<String, Long> expected = new HashMap<>();
    if (gate.checksRows()) {
      batch.forEach((run, p) -> {
        if (p.gatedOn() != null) {
          expected.put(run, p.gatedOn());
        }
      });
    }
    StaleRowTripwire.Verdict verdict = StaleRowTripwire.check(batch.keySet(), expected, byId, readStartedAt);
    List<RunRow> deliver = new ArrayList<>(verdict.fresh());
    int recovered = 0;
    for (String run : batch.keySet()) {
      if (verdict.staleRuns().contains(run)) {
        continue;
      }
      PendingRun p = batch.get(run);
      if (p.reason == Reason.RETRY) {
        recovered++;
      }
      p.unstamped = false;
      RunRow row = byId.get(run);
      boolean more = gate.checksRows() && row != null ? p.satisfiedUpTo(row.updatedAtMs()) : p.satisfiedUpTo(Long.MAX_VALUE);
      if (more) {
        p.restart(); // later changes of this run are still in flight to the replica
        requeue(run, p);
      }
    }
    if (recovered > 0) {
      metrics.staleHydrates("recovered", recovered);
    }
    if (!verdict.staleRuns().isEmpty()) {
      lag.observed(verdict.observedLagMs());
      int gaveUp = 0;
      for (String run : verdict.staleRuns()) {
        PendingRun p = batch.get(run);
        if (p.reason == Reason.ECHO) {
          echo(run, p, now);
        } else if (p.attempt < settings.staleRetries()) {
          p.attempt++;
          p.reason = Reason.RETRY;
          p.dueAtMs = gate.retryDueAt(p.gatedOn(), readStartedAt, replayedAtMs, lag.lagMs(), now,
              p.attempt == settings.staleRetries());
          requeue(run, p);
        } else {
          gaveUp++;
          RunRow stale = verdict.staleRows().get(run);
          if (stale != null) {
            deliver.add(stale); // liveness over freshness; an echo or a later read brings the fresh row
          }
          long givenUp = p.gatedOn();
          p.satisfiedUpTo(givenUp);
          if (!p.watermarks.isEmpty()) {
            p.restart();
            requeue(run, p);
          } else {
            p.watermarks.put(givenUp, now);
            echo(run, p, now);
          }
        }
      }
      if (gaveUp > 0) {
        metrics.staleHydrates("gave_up", gaveUp);
      }
    }
    if (!deliver.isEmpty()) {
      deliver(deliver);
    }
  }

  /** Re-reads a run whose retries ran out until a read is fresh or its watermark is too old. */
  private void echo(String runId, PendingRun p, long now) {
    Long watermark = p.gatedOn();
    if (watermark == null || now - watermark >= settings.echoHorizonMs()) {
      return;
    }
    p.reason = Reason.ECHO;
    p.dueAtMs = now + gate.retryDelay(lag.lagMs());
    requeue(runId, p);
  }

  // --- feed reads (snapshots, backstops, catch-up) ------------------------------------------------

  /** Every row a feed follows, as the read side has them now. */
  Future<List<RunRow>> readFeed(Shape shape) {
    if (shape.filter instanceof FeedFilter.Run run) {
      return runReads.read(run.runId()).map(row -> row == null ? List.of() : List.of(row));
    }
    metrics.hydrateQuery("feed-resolve");
    return source.resolve(envId, shape.filter, settings.maxRunsPerFeed());
  }

  Future<List<RunRow>> readRuns(Collection<String> runIds) {
    if (runIds.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    metrics.hydrateQuery("catch-up");
    return source.byIds(envId, runIds).map(RunReads.Hydration::rows);
  }

  int pendingCount() {
    return pending.size();
  }
}
