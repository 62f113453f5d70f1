package io.freshet.router.engine;

import io.freshet.core.time.Scheduler;
import io.freshet.router.engine.EngineMetrics.Outcome;
import io.freshet.router.engine.EngineMetrics.Reason;
import io.freshet.router.engine.EngineMetrics.Via;
import io.freshet.router.engine.Pending.Mark;
import io.freshet.router.engine.Pending.Stage;
import io.freshet.router.engine.ReadSource.Reading;
import io.freshet.router.engine.ReadSource.Readings;
import io.freshet.router.engine.ReadSource.Where;
import io.freshet.router.engine.SettlePolicy.Plan;
import io.vertx.core.AsyncResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The gated read: commits on their way from the primary to whoever follows them, read from a
 * replica that lags. One engine serves run rows and stream chunks alike; a {@link ReadSource} says
 * how to read a key and how far a read reached.
 *
 * <p>Flow of a commit: {@link #expect} → pending (one entry per key, every commit kept, the oldest
 * gating) → the gate's time (watermark + lag estimate + margin: only the racing leading edge waits)
 * → one read per round for every key due, at most {@code readsInFlight} reads in flight, exactly →
 * the tripwire compares how far each read reached with the commit it was read for → fresh values
 * are emitted; stale keys are read again ({@link SettlePolicy}: the replica later, or the primary at
 * the commit's deadline within the node's {@link PrimaryFallbackBudget}) → with no fallback left,
 * what the replica had is emitted (liveness) and the key is watched: read again whenever the
 * replica's replay moves past its commit, until a read is fresh.
 *
 * <p>Its state is its own; it {@linkplain Round emits} what each read settled to the consumer given
 * at construction and never asks its owner anything. All of it runs on one event loop; time passes
 * only through the {@link Scheduler}.
 */
public final class GatedReads<K, V> {

  /** A value to deliver, and the watermark of the oldest commit it settles (null: none, a value held back and delivered for liveness). */
  public record Settled<K, V>(K key, V value, Long oldestWatermarkMs) {}

  /**
   * What one read settled: the values to deliver, in key order, then the keys whose read finished
   * (fresh, or given up on until the replica moves); a key may still have later commits pending.
   */
  public record Round<K, V>(List<Settled<K, V>> values, List<K> settled) {}

  /**
   * @param readsInFlight reads in flight at most (primary and replica together)
   * @param keysPerRead keys in one read at most
   * @param coalesceMs keys due within this of a round join it
   * @param roundEveryMs the shortest time between the starts of two rounds (0: none), so a
   *     thousand keys with a commit every few ms cost a bounded number of queries
   * @param maxWatched keys watched at most; past it the oldest is dropped
   */
  public record Limits(int readsInFlight, int keysPerRead, long coalesceMs, long roundEveryMs, int maxWatched) {
    public Limits {
      if (readsInFlight < 1 || keysPerRead < 1) {
        throw new IllegalArgumentException("readsInFlight and keysPerRead must be at least 1");
      }
    }
  }

  private final SettlePolicy policy;
  private final boolean tripwire;
  private final Limits limits;
  private final Scheduler scheduler;
  private final ReadSource<K, V> source;
  private final LagView lag;
  private final PrimaryFallbackBudget budget;
  private final EngineMetrics metrics;
  private final Consumer<Round<K, V>> out;

  /** Keys waiting for a read, in arrival order. */
  private final Map<K, Pending<V>> pending = new LinkedHashMap<>();
  /** Keys being read; what arrives for them meanwhile waits in {@link #pending} and is merged after. */
  private final Map<K, Pending<V>> reading = new HashMap<>();
  /** Keys forgotten while being read: their read's outcome is dropped. */
  private final java.util.Set<K> forgotten = new java.util.HashSet<>();
  /** Watched keys, oldest first (the bound drops from the front). */
  private final LinkedHashSet<K> watched = new LinkedHashSet<>();
  /** Watched keys the replica moved for since their last read: due now. */
  private final LinkedHashSet<K> watchDue = new LinkedHashSet<>();
  private int inFlight;
  private long timerId = -1;
  private long timerAtMs = Long.MAX_VALUE;
  private long lastRoundAtMs = Long.MIN_VALUE / 2;

  /**
   * @param tripwire check each read against the commit it was read for (off only for the baseline
   *     gate modes that do not check rows)
   */
  public GatedReads(SettlePolicy policy, boolean tripwire, Limits limits, Scheduler scheduler, ReadSource<K, V> source,
      LagView lag, PrimaryFallbackBudget budget, EngineMetrics metrics, Consumer<Round<K, V>> out) {
    this.policy = policy;
    this.tripwire = tripwire;
    this.limits = limits;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.budget = budget;
    this.metrics = metrics;
    this.out = out;
  }

  // --- input -------------------------------------------------------------------------------------

  /** The primary committed {@code key} up to {@code position} at {@code watermarkMs}: read it once that is safe. */
  public void expect(K key, long position, long watermarkMs) {
    long now = scheduler.nowMs();
    Pending<V> entry = entry(key);
    entry.add(position, watermarkMs, now);
    if (entry.stage() == Stage.WATCHING) {
      // A new commit gets its own chance at the gate and the fallback; it carries the watched one.
      unwatch(key);
      entry.restart();
    }
    pullTimer(key, entry);
  }

  /**
   * A commit of {@code key} up to {@code position} arrived with its value: the writer had what it
   * committed in hand (a run's row from its {@code RETURNING}, a stream's chunks from its insert),
   * so it is delivered now, in this turn, with no gate and no read. The commits it covers are done.
   * A read already in flight for them still lands, but delivers only what it found beyond
   * {@code position}.
   */
  public void arrived(K key, V value, long position, long watermarkMs) {
    long oldest = watermarkMs;
    Pending<V> inRead = reading.get(key);
    if (inRead != null && !forgotten.contains(key)) {
      oldest = older(oldest, inRead.arrived(position));
      if (inRead.stage() == Stage.WATCHING) {
        unwatch(key); // the read lands as a plain one (settle), not as a watch
      }
    }
    Pending<V> entry = pending.get(key);
    if (entry != null) {
      oldest = older(oldest, entry.arrived(position));
      if (entry.isDone()) {
        pending.remove(key);
        unwatch(key);
      } else if (entry.stage() != Stage.GATED) {
        unwatch(key); // later commits are still on their way: they start over at the gate
        entry.restart();
        pullTimer(key, entry);
      }
    }
    metrics.settled(Via.RECORD, 1);
    out.accept(new Round<>(List.of(new Settled<>(key, value, oldest)), List.of(key)));
  }

  private static long older(long a, Long b) {
    return b == null ? a : Math.min(a, b);
  }

  /** {@code key} changed, at a version nobody stamped: read it at once, with no tripwire. */
  public void expectUnstamped(K key) {
    Pending<V> entry = entry(key);
    entry.addUnstamped(scheduler.nowMs());
    pullTimer(key, entry);
  }

  /**
   * Reads what is due now, in this turn, rather than on the next timer: for an owner that just
   * took a batch of commits at once (an announcement of many streams), so they share one read.
   */
  public void readDue() {
    scheduler.cancel(timerId);
    timerId = -1;
    timerAtMs = Long.MAX_VALUE;
    round();
    if (timerId < 0) {
      reschedule();
    }
  }

  /** Stops following {@code key}: nothing pending is read, a read in flight is ignored. */
  public void forget(K key) {
    pending.remove(key);
    unwatch(key);
    if (reading.containsKey(key)) {
      forgotten.add(key);
    }
  }

  /** The estimate changed: retries planned under the old one are planned again. */
  public void estimateChanged() {
    reschedule();
  }

  /**
   * The replica applied commits up to {@code replayedAtMs} (null: it moved, position unknown).
   * Watched keys whose commit it may now show are read again; so are keys waiting to retry a commit
   * it is now known to have applied.
   */
  public void replicaProgressed(Long replayedAtMs) {
    boolean any = false;
    for (Map.Entry<K, Pending<V>> e : pending.entrySet()) {
      Pending<V> entry = e.getValue();
      Mark oldest = entry.oldest();
      if (entry.stage() == Stage.WATCHING) {
        if (watchDue.contains(e.getKey())) {
          continue;
        }
        Long lastRead = entry.watchedReadAt();
        boolean moved = replayedAtMs == null || lastRead == null || replayedAtMs > lastRead;
        boolean reaches = replayedAtMs == null || oldest == null || replayedAtMs >= oldest.watermarkMs();
        if (moved && reaches) {
          watchDue.add(e.getKey());
          any = true;
        }
      } else if (entry.stage() == Stage.RETRYING && replayedAtMs != null && oldest != null && !entry.readNow()
          && replayedAtMs >= oldest.watermarkMs()) {
        entry.readNow(true);
        any = true;
      }
    }
    if (any) {
      reschedule();
    }
  }

  /** Whether {@code key} has commits on their way that a read will deliver (not merely watched). */
  public boolean hasPending(K key) {
    Pending<V> entry = pending.get(key);
    Pending<V> read = reading.get(key);
    return read != null && read.stage() != Stage.WATCHING && !forgotten.contains(key) && !read.isDone()
        || entry != null && entry.stage() != Stage.WATCHING;
  }

  public int pendingCount() {
    return pending.size() + reading.size();
  }

  public int watchedCount() {
    return watched.size();
  }

  private Pending<V> entry(K key) {
    forgotten.remove(key);
    return pending.computeIfAbsent(key, k -> new Pending<>());
  }

  // --- timing ------------------------------------------------------------------------------------

  private Plan plan(K key, Pending<V> entry) {
    long now = scheduler.nowMs();
    if (entry.readNow()) {
      return new Plan(now, Where.REPLICA);
    }
    Plan plan = Plan.WATCH;
    Mark oldest = entry.oldest();
    if (oldest != null) {
      long lagMs = lag.lagMs();
      plan = switch (entry.stage()) {
        case GATED -> policy.first(oldest.watermarkMs(), oldest.arrivedAtMs(), lagMs);
        case RETRYING -> policy.retry(oldest.watermarkMs(), entry.observedMs(), entry.upperMs(), lagMs, entry.notBeforeMs(),
            entry.attempts(), entry.replicaFailed());
        case WATCHING -> watchDue.contains(key) ? new Plan(now, Where.REPLICA) : Plan.WATCH;
      };
    }
    if (entry.unstamped() && entry.unstampedAtMs() < plan.atMs()) {
      plan = new Plan(entry.unstampedAtMs(), Where.REPLICA);
    }
    if (plan.source() == Where.PRIMARY && entry.refused()) {
      plan = new Plan(plan.atMs(), Where.REPLICA); // the budget said no: the replica, and liveness if still stale
    }
    return plan;
  }

  /** A new commit can only pull the next round earlier: its key's time alone is compared. */
  private void pullTimer(K key, Pending<V> entry) {
    if (inFlight < limits.readsInFlight() && !reading.containsKey(key)) {
      armAt(plan(key, entry).atMs());
    }
  }

  private void armAt(long at) {
    if (at == Long.MAX_VALUE || timerId >= 0 && timerAtMs <= at) {
      return;
    }
    scheduler.cancel(timerId);
    timerAtMs = at;
    timerId = scheduler.after(at - scheduler.nowMs(), this::wake);
  }

  private void reschedule() {
    if (pending.isEmpty() || inFlight >= limits.readsInFlight()) {
      return; // a completing read calls back in
    }
    long next = nextDue();
    if (timerId >= 0 && timerAtMs > next) {
      scheduler.cancel(timerId);
      timerId = -1;
    }
    armAt(next);
  }

  /** The earliest time a key not being read is due. */
  private long nextDue() {
    long next = Long.MAX_VALUE;
    for (Map.Entry<K, Pending<V>> e : pending.entrySet()) {
      if (!reading.containsKey(e.getKey())) {
        next = Math.min(next, plan(e.getKey(), e.getValue()).atMs());
      }
    }
    return next;
  }

  /** The timer fired: one round, reading every key that is due (or nearly), as few reads as the limits allow. */
  private void wake() {
    timerId = -1;
    timerAtMs = Long.MAX_VALUE;
    round();
  }

  private void round() {
    long now = scheduler.nowMs();
    int slots = limits.readsInFlight() - inFlight;
    if (slots <= 0 || pending.isEmpty()) {
      return;
    }
    if (now - lastRoundAtMs < limits.roundEveryMs()) {
      armAt(lastRoundAtMs + limits.roundEveryMs());
      return;
    }
    List<K> fromPrimary = new ArrayList<>();
    List<K> fromReplica = new ArrayList<>();
    for (Map.Entry<K, Pending<V>> e : pending.entrySet()) {
      if (fromReplica.size() >= slots * limits.keysPerRead()) {
        break;
      }
      if (reading.containsKey(e.getKey())) {
        continue; // one read per key at a time: what arrived meanwhile merges when it lands
      }
      Plan plan = plan(e.getKey(), e.getValue());
      if (plan.atMs() > now + limits.coalesceMs()) {
        continue;
      }
      if (plan.source() == Where.PRIMARY && fromPrimary.size() < limits.keysPerRead()) {
        fromPrimary.add(e.getKey());
      } else if (plan.source() == Where.REPLICA) {
        fromReplica.add(e.getKey());
      }
    }
    if (!fromPrimary.isEmpty()) {
      refuseBeyondBudget(fromPrimary, fromReplica);
    }
    boolean started = false;
    if (!fromPrimary.isEmpty()) {
      read(fromPrimary, Where.PRIMARY, now);
      started = true;
    }
    for (int from = 0; from < fromReplica.size() && inFlight < limits.readsInFlight(); from += limits.keysPerRead()) {
      read(fromReplica.subList(from, Math.min(fromReplica.size(), from + limits.keysPerRead())), Where.REPLICA, now);
      started = true;
    }
    if (started) {
      lastRoundAtMs = now;
    }
    reschedule();
  }

  /**
   * Takes the primary reads from the node's budget; the keys it refuses are read from the replica
   * (and delivered as the replica has them if still stale, then watched).
   */
  private void refuseBeyondBudget(List<K> fromPrimary, List<K> fromReplica) {
    int granted = budget.acquire(fromPrimary.size());
    if (granted == fromPrimary.size()) {
      return;
    }
    List<K> refused = new ArrayList<>(fromPrimary.subList(granted, fromPrimary.size()));
    fromPrimary.subList(granted, fromPrimary.size()).clear();
    for (K key : refused) {
      pending.get(key).refuse();
    }
    fromReplica.addAll(0, refused);
    metrics.fallbackRefused(refused.size());
  }

  // --- reads -------------------------------------------------------------------------------------

  private void read(List<K> keys, Where where, long startedAt) {
    Map<K, Pending<V>> batch = new LinkedHashMap<>();
    Reason reason = null;
    for (K key : keys) {
      if (reading.containsKey(key) || !pending.containsKey(key)) {
        continue; // taken by a round that ran meanwhile (a read that answered at once)
      }
      Pending<V> entry = pending.remove(key);
      watchDue.remove(key);
      entry.readNow(false);
      Mark oldest = entry.oldest();
      if (entry.stage() == Stage.GATED && oldest != null) {
        metrics.gateDelay(startedAt - oldest.watermarkMs());
      }
      entry.targetFor(startedAt + limits.coalesceMs(), m -> policy.dueAt(m.watermarkMs(), m.arrivedAtMs(), lag.lagMs()));
      if (reason == null) {
        reason = switch (entry.stage()) {
          case GATED -> Reason.WAKE;
          case RETRYING -> Reason.RETRY;
          case WATCHING -> Reason.WATCH;
        };
      }
      batch.put(key, entry);
      reading.put(key, entry);
    }
    if (batch.isEmpty()) {
      return;
    }
    inFlight++;
    int replica = where == Where.REPLICA ? lag.route(newestTarget(batch.values())) : -1;
    metrics.read(where, replica, reason, batch.size());
    List<K> asked = List.copyOf(batch.keySet());
    source.read(asked, where, replica).onComplete(ar -> {
      inFlight--;
      settle(batch, where, replica, startedAt, ar);
      afterRead();
    });
  }

  /** The newest commit a read must reach (the replica it goes to must have applied it), or null when none is stamped. */
  private static Long newestTarget(java.util.Collection<? extends Pending<?>> entries) {
    Long newest = null;
    for (Pending<?> entry : entries) {
      Mark target = entry.target();
      if (target != null && (newest == null || target.watermarkMs() > newest)) {
        newest = target.watermarkMs();
      }
    }
    return newest;
  }

  private void afterRead() {
    if (inFlight >= limits.readsInFlight() || pending.isEmpty()) {
      return;
    }
    long next = nextDue();
    if (next <= scheduler.nowMs() + limits.coalesceMs() && scheduler.nowMs() - lastRoundAtMs >= limits.roundEveryMs()) {
      scheduler.cancel(timerId);
      timerId = -1;
      timerAtMs = Long.MAX_VALUE;
      round(); // due now: no timer turn in between
    } else {
      reschedule();
    }
  }

  /**
   * A read came back: what each key's reading means.
   *
   * @param readStartedAt when the read was sent: the replica had not applied a stale key's commit
   *     by then, so {@code readStartedAt - watermark} is an honest lower bound on its lag (the
   *     completion time would add the query's own latency to every observation)
   */
  private void settle(Map<K, Pending<V>> batch, Where where, int replica, long readStartedAt, AsyncResult<Readings<K, V>> ar) {
    long now = scheduler.nowMs();
    boolean answered = ar.succeeded();
    Map<K, Reading<V>> byKey = answered ? ar.result().byKey() : Map.of();
    Long replayedAt = answered ? ar.result().replayedAtMs() : null;
    if (answered && where == Where.REPLICA && tripwire && replayedAt != null) {
      // The replica had applied the commit at replayedAt by the time this read returned.
      lag.upperBound(replica, Math.max(0, now - replayedAt));
      lag.replayed(replica, readStartedAt, now, replayedAt);
    }
    if (!answered && where == Where.REPLICA) {
      lag.failed(replica);
    }
    List<Settled<K, V>> values = new ArrayList<>();
    List<K> settled = new ArrayList<>();
    int[] outcomes = new int[Outcome.values().length];
    int freshReads = 0;
    long observed = -1;
    for (Map.Entry<K, Pending<V>> e : batch.entrySet()) {
      K key = e.getKey();
      Pending<V> entry = e.getValue();
      reading.remove(key);
      if (forgotten.remove(key)) {
        continue;
      }
      // A value arrived with its commit while this read was out: what the read found at or below it
      // is older than what was delivered. The arrival is used up by this one read; whatever is
      // still pending (a newer commit without its value, a change nobody stamped) goes on through
      // the normal path, with its retries, fallback and liveness.
      boolean olderThanArrival = false;
      if (entry.arrivedUpTo() != Reading.NOTHING) {
        olderThanArrival = !foundBeyondArrival(entry, answered ? byKey.get(key) : null);
        entry.clearArrived();
        if (olderThanArrival && entry.stage() == Stage.WATCHING) {
          unwatch(key);
          entry.restart();
        }
        if (olderThanArrival && entry.isDone()) {
          settled.add(key); // all it was read for was delivered when it arrived
          continue;
        }
      }
      if (!answered && where == Where.PRIMARY) {
        giveUp(key, entry, values, settled, replayedAt); // the primary is unreachable too
        outcomes[Outcome.GAVE_UP.ordinal()]++;
        continue;
      }
      Reading<V> reading = byKey.get(key);
      V value = reading == null || olderThanArrival ? null : reading.value();
      boolean more = reading != null && reading.more();
      long reached;
      if (!tripwire || where == Where.PRIMARY && answered && !more) {
        reached = Long.MAX_VALUE; // unchecked, or the primary: it has every commit announced before the read
      } else {
        reached = reading == null ? Reading.NOTHING : reading.reached();
      }
      boolean wasUnstamped = answered && entry.unstamped();
      Mark target = entry.target();
      // A failed read settles nothing, but a change without a watermark is not read again for it.
      Long oldestSettled = entry.satisfyUpTo(answered ? reached : Reading.NOTHING);
      boolean reachedTarget = target == null || answered && reached >= target.position();
      if (!reachedTarget && answered && !more && where == Where.REPLICA) {
        // The replica had not applied the target's commit when the read was sent (a page stops short by design).
        observed = Math.max(observed, readStartedAt - target.watermarkMs());
      }
      // A read that settled some of the key's commits made progress, even short of the newest one
      // due: the rest start over at the gate (read again at once if they are due), and no retry is
      // spent. Only a read that settled nothing is stale.
      boolean fresh = reachedTarget || oldestSettled != null;
      if (value != null && (fresh || wasUnstamped || source.deliversPrefix())) {
        values.add(new Settled<>(key, value, oldestSettled));
      }
      if (more) {
        entry.readNow(true); // a page: read on at once, not a stale read
        requeue(key, entry);
        continue;
      }
      if (fresh) {
        if (where == Where.PRIMARY) {
          outcomes[Outcome.PRIMARY.ordinal()]++;
        } else if (entry.stage() == Stage.RETRYING) {
          outcomes[Outcome.RECOVERED.ordinal()]++;
        } else if (entry.stage() == Stage.WATCHING) {
          outcomes[Outcome.STALL_RECOVERED.ordinal()]++;
          unwatch(key);
        }
        settled.add(key);
        freshReads++;
        if (!entry.isDone()) {
          entry.restart();
          requeue(key, entry);
        }
        continue;
      }
      V held = source.deliversPrefix() ? null : value;
      if (entry.stage() == Stage.WATCHING) {
        entry.stillStale(held, replayedAt);
        outcomes[Outcome.STILL_STALE.ordinal()]++;
        requeue(key, entry);
        continue;
      }
      long watermark = target.watermarkMs();
      entry.stale(readStartedAt - watermark, SettlePolicy.bracketTop(watermark, readStartedAt, replayedAt), held,
          now + policy.minRetryDelayMs(), !answered);
      if (entry.refused() || policy.retry(watermark, entry.observedMs(), entry.upperMs(), lag.lagMs(), entry.notBeforeMs(),
          entry.attempts(), entry.replicaFailed()).watching()) {
        outcomes[Outcome.GAVE_UP.ordinal()]++;
        giveUp(key, entry, values, settled, replayedAt);
      } else {
        requeue(key, entry);
      }
    }
    if (observed >= 0) {
      lag.observed(replica, observed);
    }
    for (Outcome outcome : Outcome.values()) {
      if (outcomes[outcome.ordinal()] > 0) {
        metrics.outcome(outcome, outcomes[outcome.ordinal()]);
      }
    }
    if (freshReads > 0) {
      metrics.settled(Via.READ, freshReads);
    }
    if (outcomes[Outcome.GAVE_UP.ordinal()] > 0) {
      metrics.settled(Via.LIVENESS, outcomes[Outcome.GAVE_UP.ordinal()]);
    }
    if (!values.isEmpty() || !settled.isEmpty()) {
      out.accept(new Round<>(values, settled));
    }
  }

  /** Whether a read found the key beyond what arrived with its commits while the read was out. */
  private static boolean foundBeyondArrival(Pending<?> entry, Reading<?> reading) {
    return reading != null && reading.value() != null && reading.reached() > entry.arrivedUpTo();
  }

  /**
   * No fallback is left for the key's commit: deliver what the replica had (liveness over
   * freshness) and watch the key until the replica applies the commit.
   */
  private void giveUp(K key, Pending<V> entry, List<Settled<K, V>> values, List<K> settled, Long replayedAt) {
    V held = entry.takeStaleValue();
    if (held != null) {
      values.add(new Settled<>(key, held, null));
    }
    entry.watch(replayedAt);
    requeue(key, entry);
    settled.add(key);
    if (watched.add(key)) {
      while (watched.size() > Math.max(1, limits.maxWatched())) {
        K oldest = watched.iterator().next();
        unwatch(oldest);
        pending.remove(oldest);
        metrics.watchedDropped();
      }
    }
  }

  private void unwatch(K key) {
    watched.remove(key);
    watchDue.remove(key);
  }

  /** Puts a key back after its read, merged with the commits that arrived for it meanwhile. */
  private void requeue(K key, Pending<V> entry) {
    Pending<V> arrived = pending.put(key, entry);
    if (arrived != null && arrived != entry) {
      entry.merge(arrived);
      if (entry.stage() == Stage.WATCHING) {
        unwatch(key);
        entry.restart();
      }
    }
  }
}
