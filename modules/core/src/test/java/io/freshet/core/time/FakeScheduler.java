package io.freshet.core.time;

import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The node's {@link Scheduler} on a fake clock, for every module's tests: time stands still until a
 * test {@link #advance}s it, and then every timer that falls due runs at its own time, in order
 * (ties in the order they were scheduled). Tasks may schedule and cancel others as they run.
 */
public final class FakeScheduler implements Scheduler {

  private record Task(long atMs, long id, long periodMs, Runnable run) {}

  private long nowMs;
  private long nextId = 1;
  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>((a, b) -> a.atMs != b.atMs ? Long.compare(a.atMs, b.atMs) : Long.compare(a.id, b.id));
  private final Set<Long> live = new HashSet<>();

  public FakeScheduler(long startMs) {
    this.nowMs = startMs;
  }

  /** Starts at an arbitrary but realistic epoch time (2026-01-01). */
  public FakeScheduler() {
    this(1_767_225_600_000L);
  }

  @Override
  public long nowMs() {
    return nowMs;
  }

  @Override
  public long after(long delayMs, Runnable task) {
    return add(Math.max(0, delayMs), 0, task);
  }

  @Override
  public long every(long periodMs, Runnable task) {
    if (periodMs <= 0) {
      throw new IllegalArgumentException("period must be positive: " + periodMs);
    }
    return add(periodMs, periodMs, task);
  }

  private long add(long delayMs, long periodMs, Runnable task) {
    long id = nextId++;
    live.add(id);
    tasks.add(new Task(nowMs + delayMs, id, periodMs, task));
    return id;
  }

  @Override
  public void cancel(long timerId) {
    live.remove(timerId);
  }

  /** Moves the clock {@code ms} forward, running each timer that falls due at its own time. */
  public void advance(long ms) {
    if (ms < 0) {
      throw new IllegalArgumentException("time does not go back: " + ms);
    }
    long until = nowMs + ms;
    while (!tasks.isEmpty() && tasks.peek().atMs <= until) {
      Task task = tasks.poll();
      if (!live.contains(task.id)) {
        continue;
      }
      nowMs = Math.max(nowMs, task.atMs);
      if (task.periodMs > 0) {
        tasks.add(new Task(task.atMs + task.periodMs, task.id, task.periodMs, task.run));
      } else {
        live.remove(task.id);
      }
      task.run.run();
    }
    nowMs = until;
  }

  /**
   * The process resumes after {@code ms} without running (SIGCONT), and nothing has run yet: on an
   * event loop the I/O that queued up meanwhile is handled before the overdue timers.
   */
  public void jump(long ms) {
    nowMs += ms;
  }

  /**
   * The process does not run for {@code ms} (SIGSTOP, a stalled VM): the clock jumps, then every
   * overdue timer runs once, late (a periodic one goes on from now, as Vert.x's do).
   */
  public void freeze(long ms) {
    nowMs += ms;
    java.util.List<Task> due = new java.util.ArrayList<>();
    while (!tasks.isEmpty() && tasks.peek().atMs <= nowMs) {
      due.add(tasks.poll());
    }
    for (Task task : due) {
      if (!live.contains(task.id)) {
        continue;
      }
      if (task.periodMs > 0) {
        tasks.add(new Task(nowMs + task.periodMs, task.id, task.periodMs, task.run));
      } else {
        live.remove(task.id);
      }
      task.run.run();
    }
  }

  /** Runs what is due now (timers of zero delay scheduled by the test itself). */
  public void runDue() {
    advance(0);
  }

  /** Timers that have not run or been cancelled (periodic ones count until cancelled). */
  public int pending() {
    return live.size();
  }
}
