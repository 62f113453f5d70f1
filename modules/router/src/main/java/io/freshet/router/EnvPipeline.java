package io.freshet.router;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.SettlePolicy.Plan;
import io.freshet.router.SettlePolicy.Source;
import io.freshet.store.RunReads;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * One environment's changes on their way from record to row: the runs waiting for a read, the one
 * timer armed at the earliest due time, batched reads (at most {@code hydrateConcurrency} in
 * flight), and what each read's outcome means, as {@link SettlePolicy} decides it. Fresh rows go to
 * {@link Output#deliver}; the environment's feed logs take them from there.
 *
 * <p>Flow of a change: {@link #onRecord} → pending (one entry per run, every watermark kept, the
 * oldest gating) → the gate's time → one batched replica read per wake → the tripwire splits fresh
 * from stale → stale runs are read again (replica, or the primary at their deadline within the
 * node's budget) → with no fallback left the replica's row is delivered anyway and the run is
 * watched, read again whenever the replica's replay moves, until a read is fresh.
 *
 * <p>All of it runs on the router's event loop; time passes only through the scheduler.
 */
final class EnvPipeline {

  /** Where settled rows go. */
  interface Output {
    /** Rows to offer to the environment's logs, each with the oldest change it carries (or null). */
    void deliver(List<Delivered> rows);

    /** {@code runId}'s outstanding changes were settled (delivered fresh, or given up on for now). */
    void settled(String runId);
  }

  record Delivered(RunRow row, Long oldestWatermarkMs) {}

  private final String envId;
  private final RouterSettings settings;
  private final ReplicaLagGate gate;
  private final SettlePolicy policy;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final RunSource source;
  private final LagView lag;
  private final RouterMetrics metrics;
  private final PrimaryFallbackBudget budget;
  private final Predicate<ChangeRecord> followed;
  private final Output output;

  private final ReplayBuffer replay;
  private final Map<String, PendingRun> pending = new LinkedHashMap<>();
  /** Runs in {@link PendingRun.Stage#WATCHING}, oldest first (the bound drops from the front). */
  private final LinkedHashSet<String> watched = new LinkedHashSet<>();
  /** Watched runs the replica moved for since their last read: due now. */
  private final LinkedHashSet<String> watchDue = new LinkedHashSet<>();
  /** The replay position each watched run was last read at. */
  private final Map<String, Long> watchedReadAt = new HashMap<>();
  /** Runs settled by the read being handled: told to the output after its rows are delivered. */
  private final List<String> settledRuns = new ArrayList<>();
  private int inFlight;
  private long timerId = -1;
  private long timerAtMs = Long.MAX_VALUE;

  EnvPipeline(String envId, RouterSettings settings, LongSupplier clock, Scheduler scheduler, RunSource source, LagView lag,
      RouterMetrics metrics, PrimaryFallbackBudget budget, Predicate<ChangeRecord> followed, Output output) {
    this.envId = envId;
    this.settings = settings;
    this.gate = settings.gate();
    this.policy = settings.policy();
    this.clock = clock;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.metrics = metrics;
    this.budget = budget;
    this.followed = followed;
    this.output = output;
    this.replay = new ReplayBuffer(settings.replayWindowMs(), settings.replayMaxRuns());
  }

  // --- input -------------------------------------------------------------------------------------

  void onRecord(ChangeRecord record) {
    long now = clock.getAsLong();
    metrics.record();
    replay.add(record, now);
    if (!followed.test(record)) {
      return; // nobody follows it; kept for replay only
    }
    lag.touch();
    enqueue(record.runId(), record.updatedAtMs(), now);
  }

  /**
   * Re-runs recent records through the gate for a log opened after them (its snapshot came from a
   * replica that may not have applied them yet); returns the watermark of each run replayed.
   */
  Map<String, Long> replayFor(Predicate<ChangeRecord> mayMatch, long sinceMs) {
    long now = clock.getAsLong();
    Map<String, Long> replayed = new HashMap<>();
    for (ChangeRecord record : replay.since(sinceMs, now)) {
      if (mayMatch.test(record)) {
        enqueue(record.runId(), record.updatedAtMs(), now);
        if (record.updatedAtMs() != null) {
          replayed.merge(record.runId(), record.updatedAtMs(), Math::max);
        }
      }
    }
    return replayed;
  }

  /** Reads {@code runId} once its version {@code watermarkMs} is safe to read (a synthetic change). */
  void expect(String runId, Long watermarkMs) {
    enqueue(runId, watermarkMs, clock.getAsLong());
  }

  /** The estimate changed: retries planned under the old one are planned again. */
  void onEstimateChanged() {
    reschedule();
  }

  /** The replica applied commits up to {@code replayedAtMs} (null: moved, position unknown). */
  void onReplicaProgress(Long replayedAtMs) {
    boolean any = false;
    for (String runId : watched) {
      PendingRun run = pending.get(runId);
      if (run == null || watchDue.contains(runId)) {
        continue;
      }
      Long lastRead = watchedReadAt.get(runId);
      Long oldest = run.oldest();
      boolean moved = replayedAtMs == null || lastRead == null || replayedAtMs > lastRead;
      boolean reaches = replayedAtMs == null || oldest == null || replayedAtMs >= oldest;
      if (moved && reaches) {
        watchDue.add(runId);
        any = true;
      }
    }
    if (any) {
      reschedule();
    }
  }

  int pendingCount() {
    return pending.size();
  }

  int watchedCount() {
    return watched.size();
  }

  private void enqueue(String runId, Long watermarkMs, long now) {
    PendingRun run = pending.computeIfAbsent(runId, PendingRun::new);
    run.add(watermarkMs, now);
    if (run.stage == PendingRun.Stage.WATCHING && watermarkMs != null) {
      // A new change gets its own chance at the gate and the fallback; it carries the watched one.
      unwatch(runId);
      run.restart();
    }
    // A new record can only pull the next wake earlier: compare its run's due time alone rather
    // than rescanning every pending run for each record.
    if (inFlight < settings.hydrateConcurrency()) {
      scheduleAt(plan(run).atMs());
    }
  }

  // --- timing ------------------------------------------------------------------------------------

  private Plan plan(PendingRun run) {
    Plan plan = Plan.WATCH;
    Long oldest = run.oldest();
    if (oldest != null) {
      long lagMs = lag.lagMs();
      plan = switch (run.stage) {
        case GATED -> policy.first(oldest, run.arrivedAt(oldest), lagMs);
        case RETRYING -> policy.retry(oldest, run.observedMs, run.upperMs, lagMs, run.notBeforeMs, run.attempts, run.replicaFailed);
        case WATCHING -> watchDue.contains(run.runId) ? new Plan(clock.getAsLong(), Source.REPLICA) : Plan.WATCH;
      };
    }
    if (run.unstamped() && run.unstampedAtMs() < plan.atMs()) {
      plan = new Plan(run.unstampedAtMs(), Source.REPLICA);
    }
    return plan;
  }

  private void scheduleAt(long at) {
    if (at == Long.MAX_VALUE || timerId >= 0 && timerAtMs <= at) {
      return;
    }
    if (timerId >= 0) {
      scheduler.cancel(timerId);
    }
    timerAtMs = at;
    timerId = scheduler.schedule(Math.max(0, at - clock.getAsLong()), this::wake);
  }

  private void reschedule() {
    if (pending.isEmpty() || inFlight >= settings.hydrateConcurrency()) {
      return; // a completing read calls back in
    }
    long next = Long.MAX_VALUE;
    for (PendingRun run : pending.values()) {
      next = Math.min(next, plan(run).atMs());
    }
    if (timerId >= 0 && timerAtMs > next) {
      scheduler.cancel(timerId);
      timerId = -1;
    }
    scheduleAt(next);
  }

  /** The timer fired: read every run that is due (or nearly), in one query per batch and source. */
  private void wake() {
    timerId = -1;
    timerAtMs = Long.MAX_VALUE;
    long now = clock.getAsLong();
    while (inFlight < settings.hydrateConcurrency()) {
      Map<String, PendingRun> replica = new LinkedHashMap<>();
      Map<String, PendingRun> primary = new LinkedHashMap<>();
      Iterator<Map.Entry<String, PendingRun>> it = pending.entrySet().iterator();
      while (it.hasNext() && replica.size() + primary.size() < settings.hydrateBatchMax()) {
        Map.Entry<String, PendingRun> entry = it.next();
        Plan plan = plan(entry.getValue());
        if (plan.atMs() <= now + settings.coalesceMs()) {
          (plan.source() == Source.PRIMARY ? primary : replica).put(entry.getKey(), entry.getValue());
          it.remove();
          watchDue.remove(entry.getKey());
        }
      }
      if (replica.isEmpty() && primary.isEmpty()) {
        break;
      }
      if (!primary.isEmpty()) {
        refuseBeyondBudget(primary, replica);
      }
      if (!primary.isEmpty()) {
        readPrimary(primary);
      }
      if (!replica.isEmpty()) {
        readReplica(replica, now);
      }
    }
    reschedule();
  }

  // --- reads -------------------------------------------------------------------------------------

  private void readReplica(Map<String, PendingRun> batch, long startedAt) {
    inFlight++;
    PendingRun first = batch.values().iterator().next();
    metrics.hydrateQuery(switch (first.stage) {
      case GATED -> "wake";
      case RETRYING -> "retry";
      case WATCHING -> "watch";
    });
    for (PendingRun run : batch.values()) {
      Long oldest = run.oldest();
      if (run.stage == PendingRun.Stage.GATED && oldest != null) {
        metrics.gateDelay(startedAt - oldest);
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
        settleReplica(batch, ar.result(), startedAt, true);
      } else {
        // An unreachable replica is a stale read that proved nothing (not even a lag: the
        // estimate is left alone): the same retries, then the primary at each change's deadline.
        settleReplica(batch, new RunReads.Hydration(List.of(), null), startedAt, false);
      }
      afterRead();
    });
  }

  /**
   * Takes the primary reads from the node's budget; the runs it refuses are read from the replica as
   * today (delivered anyway if still stale, then watched).
   */
  private void refuseBeyondBudget(Map<String, PendingRun> primary, Map<String, PendingRun> replica) {
    int granted = budget.acquire(primary.size());
    if (granted == primary.size()) {
      return;
    }
    int refused = 0;
    Iterator<Map.Entry<String, PendingRun>> it = primary.entrySet().iterator();
    for (int i = 0; it.hasNext(); i++) {
      Map.Entry<String, PendingRun> entry = it.next();
      if (i >= granted) {
        entry.getValue().refused = true;
        replica.put(entry.getKey(), entry.getValue());
        it.remove();
        refused++;
      }
    }
    metrics.fallbackRefused(refused);
  }

  private void readPrimary(Map<String, PendingRun> read) {
    inFlight++;
    metrics.hydrateQuery("primary");
    metrics.fallbackReads(read.size());
    source.primaryByIds(envId, read.keySet()).onComplete(ar -> {
      inFlight--;
      List<Delivered> rows = new ArrayList<>();
      Map<String, RunRow> byId = new HashMap<>();
      if (ar.succeeded()) {
        ar.result().rows().forEach(r -> byId.put(r.runId(), r));
      }
      int served = 0;
      for (PendingRun run : read.values()) {
        RunRow row = byId.get(run.runId);
        if (ar.failed()) {
          giveUp(run, rows); // the primary is unreachable too: deliver what the replica had, watch
          continue;
        }
        served++;
        if (row != null) {
          rows.add(new Delivered(row, run.satisfiedUpTo(row.updatedAtMs())));
        } else {
          run.satisfiedUpTo(Long.MAX_VALUE); // gone from the primary too: nothing to deliver
        }
        continueOrSettle(run);
      }
      if (served > 0) {
        metrics.staleHydrates("primary", served);
      }
      finish(rows);
      afterRead();
    });
  }

  private void afterRead() {
    reschedule();
    if (timerId < 0 && !pending.isEmpty()) {
      wake();
    }
  }

  /**
   * @param readStartedAt when the read was sent: the replica had not applied a stale row's write by
   *     then, so {@code readStartedAt - watermark} is an honest lower bound on the lag (the
   *     completion time would add the query's own latency to every observation)
   */
  private void settleReplica(Map<String, PendingRun> batch, RunReads.Hydration read, long readStartedAt, boolean answered) {
    long now = clock.getAsLong();
    Map<String, RunRow> byId = new HashMap<>();
    for (RunRow row : read.rows()) {
      byId.put(row.runId(), row);
    }
    Map<String, Long> expected = new HashMap<>();
    if (gate.checksRows()) {
      batch.forEach((run, p) -> {
        if (p.oldest() != null) {
          expected.put(run, p.oldest());
        }
      });
    }
    StaleRowTripwire.Verdict verdict = StaleRowTripwire.check(batch.keySet(), expected, byId, readStartedAt);
    List<Delivered> deliver = new ArrayList<>();
    int recovered = 0;
    int stallRecovered = 0;
    int gaveUp = 0;
    for (PendingRun run : batch.values()) {
      if (verdict.staleRuns().contains(run.runId)) {
        continue;
      }
      if (run.stage == PendingRun.Stage.RETRYING) {
        recovered++;
      } else if (run.stage == PendingRun.Stage.WATCHING) {
        stallRecovered++;
        unwatch(run.runId);
      }
      RunRow row = byId.get(run.runId);
      if (row != null) {
        deliver.add(new Delivered(row, run.satisfiedUpTo(gate.checksRows() ? row.updatedAtMs() : Long.MAX_VALUE)));
      } else {
        run.satisfiedUpTo(Long.MAX_VALUE); // not found anywhere the read side can see; nothing to deliver
      }
      continueOrSettle(run);
    }
    if (!verdict.staleRuns().isEmpty()) {
      if (answered) {
        lag.observed(verdict.observedLagMs());
      }
      for (String runId : verdict.staleRuns()) {
        PendingRun run = batch.get(runId);
        RunRow staleRow = verdict.staleRows().get(runId);
        long watermark = run.oldest();
        if (run.stage == PendingRun.Stage.WATCHING) {
          if (staleRow != null) {
            run.staleRow = staleRow;
          }
          watchedReadAt.put(runId, read.replayedAtMs());
          requeue(run);
          continue;
        }
        run.stale(readStartedAt - watermark, SettlePolicy.bracketTop(watermark, readStartedAt, read.replayedAtMs()), staleRow,
            now + policy.minRetryDelayMs());
        run.replicaFailed = !answered;
        if (run.refused || policy.retry(watermark, run.observedMs, run.upperMs, lag.lagMs(), run.notBeforeMs, run.attempts,
            run.replicaFailed).watching()) {
          gaveUp++;
          watchedReadAt.put(runId, read.replayedAtMs());
          giveUp(run, deliver);
        } else {
          requeue(run);
        }
      }
    }
    if (recovered > 0) {
      metrics.staleHydrates("recovered", recovered);
    }
    if (stallRecovered > 0) {
      metrics.staleHydrates("stall_recovered", stallRecovered);
    }
    if (gaveUp > 0) {
      metrics.staleHydrates("gave_up", gaveUp);
    }
    finish(deliver);
  }

  /**
   * No fallback is left for the run's oldest change: deliver what the replica had (liveness over
   * freshness) and watch the run until the replica applies the change.
   */
  private void giveUp(PendingRun run, List<Delivered> deliver) {
    if (run.staleRow != null) {
      deliver.add(new Delivered(run.staleRow, null));
    }
    run.watch();
    if (watched.add(run.runId)) {
      while (watched.size() > settings.maxWatchedRunsPerEnv()) {
        String oldest = watched.iterator().next();
        unwatch(oldest);
        pending.remove(oldest);
        metrics.stalledRunDropped();
      }
    }
    requeue(run);
    settledRuns.add(run.runId);
  }

  private void unwatch(String runId) {
    watched.remove(runId);
    watchDue.remove(runId);
    watchedReadAt.remove(runId);
  }

  /** After a fresh read: later changes of the run start over at the gate, or the run is done. */
  private void continueOrSettle(PendingRun run) {
    if (!run.isDone()) {
      run.restart();
      requeue(run);
    }
    settledRuns.add(run.runId);
  }

  /** Puts a run back after a read; merges with records that arrived for it meanwhile. */
  private void requeue(PendingRun run) {
    PendingRun arrived = pending.put(run.runId, run);
    if (arrived != null && arrived != run) {
      run.merge(arrived);
      if (run.stage == PendingRun.Stage.WATCHING) {
        unwatch(run.runId);
        run.restart();
      }
    }
  }

  /** Delivers a read's rows, then tells who waited for its settled runs (a snapshot then carries them). */
  private void finish(List<Delivered> rows) {
    if (!rows.isEmpty()) {
      output.deliver(rows);
    }
    if (!settledRuns.isEmpty()) {
      List<String> settled = List.copyOf(settledRuns);
      settledRuns.clear();
      settled.forEach(output::settled);
    }
  }

  // --- feed reads (snapshots, backstops, catch-up) ------------------------------------------------

  /** Whether {@code runId} has changes on their way (a snapshot that lacks them waits for them). */
  boolean hasPending(String runId) {
    PendingRun run = pending.get(runId);
    return run != null && run.stage != PendingRun.Stage.WATCHING;
  }
}
