package io.freshet.lag;

import io.freshet.core.lag.Heartbeat;
import io.freshet.core.time.Scheduler;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Times when this node's replica applies each heartbeat, from the replica side, mid-apply: what
 * plain PostgreSQL cannot report ({@code now() - pg_last_xact_replay_timestamp()} is the age of the
 * last commit, not a lag).
 *
 * <p>For each announced heartbeat (written on the primary at {@code atMs}, primary clock) the probe
 * reads the replica shortly before the estimate says it will apply, then every few milliseconds
 * until it shows. The apply then lies between the last read that missed it and the first that saw
 * it, which measures the delay to within one step (2 to 10 ms); a first read that already sees it
 * only bounds the delay from above, so the next heartbeat is probed earlier. While a heartbeat stays
 * unapplied past the estimate (a cold start, a paused or stalled standby) its growing age is
 * reported as a lower bound, and the reads space out with it, to a few per second. Every read also returns the replica's last replayed commit,
 * reported as progress when it moves: routers re-read the runs they watch then.
 *
 * <p>Cost: about three reads on the replica per heartbeat and node; nothing on the primary (the
 * single writer is {@link HeartbeatWriter}). Not thread-safe: one event loop.
 */
final class HeartbeatProbe {

  /** What the probe learns. */
  interface Reports {
    /** A heartbeat's apply delay; {@code upperOnly} when only an upper bound is known. */
    void measured(long lagMs, boolean upperOnly);

    /** The oldest heartbeat the replica has not applied was written this long ago (a lower bound on the lag). */
    void unapplied(long ageMs);

    /** The replica replayed a newer commit, committed at {@code replayedAtMs} (primary clock). */
    void progressed(long replayedAtMs);

    void failed(Throwable cause);
  }

  /** Heartbeats older than this many are superseded by newer ones: one visible proves the older applied. */
  private static final int MAX_TRACKED = 32;

  private final Supplier<Future<HeartbeatRow.Seen>> read;
  private final Scheduler scheduler;
  private final LongSupplier estimate;
  private final long intervalMs;
  private final Reports reports;

  private final TreeMap<Long, Heartbeat> unapplied = new TreeMap<>();
  private long appliedSeq;
  private Long lastReplayedAtMs;
  private boolean active;
  private boolean inFlight;
  private long timer = -1;
  /** When the last read that missed the oldest unapplied heartbeat was sent, or MIN_VALUE. */
  private long lastMissSentMs = Long.MIN_VALUE;
  /** The last measurement was a first read that already saw its heartbeat: start the next one earlier. */
  private boolean startEarlier;
  /** This probe's own last measurement, which times the next heartbeat's reads (-1 before the first). */
  private long lastMeasuredMs = -1;

  /**
   * @param scheduler the node's timers and clock: the wall clock in epoch ms, compared with the
   *     heartbeats' write times on the primary's clock (as watermarks are)
   * @param estimate the current lag estimate, which times each heartbeat's first read
   */
  HeartbeatProbe(Supplier<Future<HeartbeatRow.Seen>> read, Scheduler scheduler, LongSupplier estimate, long intervalMs, Reports reports) {
    this.read = read;
    this.scheduler = scheduler;
    this.estimate = estimate;
    this.intervalMs = intervalMs;
    this.reports = reports;
  }

  /** Probing runs only while the node's sampler does (feeds are active). */
  void active(boolean on) {
    active = on;
    if (!on) {
      cancel();
      unapplied.clear();
      lastMissSentMs = Long.MIN_VALUE;
    }
  }

  /** A heartbeat was written (by this node or another). */
  void onBeat(Heartbeat beat) {
    if (!active || beat.seq() <= appliedSeq || unapplied.containsKey(beat.seq())) {
      return;
    }
    boolean wasEmpty = unapplied.isEmpty();
    unapplied.put(beat.seq(), beat);
    while (unapplied.size() > MAX_TRACKED) {
      unapplied.pollFirstEntry();
      lastMissSentMs = Long.MIN_VALUE;
    }
    if (wasEmpty && !inFlight) {
      scheduleNext();
    }
  }

  int tracked() {
    return unapplied.size();
  }

  private void scheduleNext() {
    cancel();
    if (!active || unapplied.isEmpty()) {
      return;
    }
    Heartbeat oldest = unapplied.firstEntry().getValue();
    long now = scheduler.nowMs();
    // Its own last measurement, not the estimate (which may hold a larger recent one for a while).
    long est = Math.max(0, lastMeasuredMs >= 0 ? lastMeasuredMs : estimate.getAsLong());
    long delay;
    if (lastMissSentMs == Long.MIN_VALUE) {
      long lead = startEarlier ? est * 3 / 4 : Math.max(5, est / 20);
      delay = Math.max(0, oldest.atMs() + est - lead - now);
    } else {
      delay = step(now - oldest.atMs(), est);
    }
    timer = scheduler.after(delay, this::probe);
  }

  /**
   * Between reads of a heartbeat: a few ms around the expected apply; once it is overdue (the
   * estimate was low, or the replica stalls) an eighth of its age, so a cold start finds any
   * delay in about twenty reads (to within 6%, refined by the next beats) and a stall costs a few
   * reads a second.
   */
  private long step(long ageMs, long estMs) {
    long base = Math.max(2, Math.min(10, estMs / 40));
    return ageMs > estMs + base ? Math.max(base, Math.min(intervalMs / 2, ageMs / 8)) : base;
  }

  private void probe() {
    timer = -1;
    if (!active || inFlight || unapplied.isEmpty()) {
      return;
    }
    inFlight = true;
    long sent = scheduler.nowMs();
    Future<HeartbeatRow.Seen> reading;
    try {
      reading = read.get();
    } catch (RuntimeException e) {
      reading = Future.failedFuture(e);
    }
    reading.onComplete(ar -> onRead(ar, sent));
  }

  private void onRead(AsyncResult<HeartbeatRow.Seen> ar, long sent) {
    inFlight = false;
    long ended = scheduler.nowMs();
    if (ar.failed()) {
      reports.failed(ar.cause());
      cancel();
      if (active) {
        timer = scheduler.after(intervalMs, this::probe);
      }
      return;
    }
    HeartbeatRow.Seen seen = ar.result();
    if (seen.replayedAtMs() != null && (lastReplayedAtMs == null || seen.replayedAtMs() > lastReplayedAtMs)) {
      lastReplayedAtMs = seen.replayedAtMs();
      reports.progressed(seen.replayedAtMs());
    }
    if (unapplied.isEmpty()) {
      return;
    }
    Heartbeat oldest = unapplied.firstEntry().getValue();
    if (seen.seq() >= oldest.seq()) {
      // The newest heartbeat the read shows tells the current lag; after a stall the older ones
      // only tell how long the stall was.
      Heartbeat newest = unapplied.floorEntry(seen.seq()).getValue();
      boolean bracketed = lastMissSentMs != Long.MIN_VALUE && newest == oldest;
      long lag = bracketed ? (lastMissSentMs + ended) / 2 - oldest.atMs() : ended - newest.atMs();
      reports.measured(Math.max(0, lag), !bracketed);
      lastMeasuredMs = Math.max(0, lag);
      startEarlier = !bracketed;
      appliedSeq = Math.max(appliedSeq, seen.seq());
      unapplied.headMap(seen.seq(), true).clear();
      lastMissSentMs = Long.MIN_VALUE;
    } else {
      lastMissSentMs = sent;
      long age = sent - oldest.atMs();
      if (age > Math.max(estimate.getAsLong(), lastMeasuredMs)) {
        reports.unapplied(age);
      }
    }
    scheduleNext();
  }

  private void cancel() {
    if (timer >= 0) {
      scheduler.cancel(timer);
      timer = -1;
    }
  }
}
