package io.freshet.router.feeds;

import io.freshet.core.time.Scheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A feed log as its router serves it: which environment it belongs to, whether its snapshot is
 * ready ({@link State#OPENING} until then: opens that arrive meanwhile wait for it, and the snapshot
 * waits for the changes on their way it must carry), when it was last used, and when it last had a
 * backstop read.
 */
final class LiveLog {

  enum State { OPENING, OPEN }

  /** An open request waiting for the snapshot. */
  record Waiter(PollReply reply, boolean skipHistory) {}

  final FeedLog log;
  final EnvFeeds env;
  private State state = State.OPENING;
  private long lastActivityMs;
  private long lastBackstopAtMs;
  private final List<Waiter> waiters = new ArrayList<>();
  /** Runs whose changes the snapshot must carry before it is served: run → watermark. */
  private final Map<String, Long> awaited = new HashMap<>();
  private long openTimer = -1;
  private boolean frozen;

  LiveLog(FeedLog log, EnvFeeds env, long nowMs) {
    this.log = log;
    this.env = env;
    this.lastActivityMs = nowMs;
    this.lastBackstopAtMs = nowMs;
  }

  String handle() {
    return log.handle;
  }

  /** Handed to another node: it commits nothing more here (the new owner numbers what follows). */
  void freeze() {
    frozen = true;
  }

  boolean frozen() {
    return frozen;
  }

  boolean isOpen() {
    return state == State.OPEN;
  }

  void touch(long nowMs) {
    lastActivityMs = Math.max(lastActivityMs, nowMs);
  }

  long lastActivityMs() {
    return lastActivityMs;
  }

  void waitForSnapshot(Waiter waiter) {
    waiters.add(waiter);
  }

  /** The snapshot must carry {@code runId} at {@code watermarkMs} or later (a change on its way). */
  void await(String runId, long watermarkMs) {
    if (log.version(runId) < watermarkMs) {
      awaited.merge(runId, watermarkMs, Math::max);
    }
  }

  /**
   * Drops what is no longer awaited: runs the log now holds at their watermark, and runs that
   * {@code stillComing} says have nothing on its way any more (the change was given up on, or the
   * run does not match the filter). Returns whether the snapshot can be served.
   */
  boolean settle(Predicate<String> stillComing) {
    awaited.entrySet().removeIf(e -> log.version(e.getKey()) >= e.getValue() || !stillComing.test(e.getKey()));
    return awaited.isEmpty();
  }

  boolean awaits(String runId) {
    return awaited.containsKey(runId);
  }

  /** The snapshot waits at most {@code ms} for what it awaits; then {@code serve} runs anyway. */
  void waitAtMost(Scheduler scheduler, long ms, Runnable serve) {
    openTimer = scheduler.after(ms, serve);
  }

  /** The snapshot is ready: the log is open; returns who waited for it. */
  List<Waiter> open(Scheduler scheduler) {
    scheduler.cancel(openTimer);
    openTimer = -1;
    state = State.OPEN;
    awaited.clear();
    touch(scheduler.nowMs());
    List<Waiter> out = List.copyOf(waiters);
    waiters.clear();
    return out;
  }

  /** The snapshot failed or the log is going away: returns who waited for it. */
  List<Waiter> abandon(Scheduler scheduler) {
    scheduler.cancel(openTimer);
    openTimer = -1;
    List<Waiter> out = List.copyOf(waiters);
    waiters.clear();
    return out;
  }

  /** How long since the log's last backstop read (or its snapshot). */
  long sinceBackstopMs(long nowMs) {
    return nowMs - lastBackstopAtMs;
  }

  void backstopped(long nowMs) {
    lastBackstopAtMs = nowMs;
  }
}
