package io.freshet.lag;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/** A manual clock with periodic timers that fire only when the test advances time. */
final class FakeTime implements LongSupplier, LagSampler.Scheduler, HeartbeatProbe.Timers {

  private static final class Periodic {
    final long periodMs;
    final Runnable task;
    long nextAtMs;

    Periodic(long periodMs, Runnable task, long nextAtMs) {
      this.periodMs = periodMs;
      this.task = task;
      this.nextAtMs = nextAtMs;
    }
  }

  private final Map<Long, Periodic> timers = new LinkedHashMap<>();
  private long nowMs;
  private long nextId;

  FakeTime(long startMs) {
    this.nowMs = startMs;
  }

  @Override
  public long getAsLong() {
    return nowMs;
  }

  @Override
  public long schedulePeriodic(long periodMs, Runnable task) {
    long id = nextId++;
    timers.put(id, new Periodic(periodMs, task, nowMs + periodMs));
    return id;
  }

  /** A one-shot timer. */
  @Override
  public long schedule(long delayMs, Runnable task) {
    long id = nextId++;
    timers.put(id, new Periodic(0, task, nowMs + Math.max(0, delayMs)));
    return id;
  }

  @Override
  public void cancel(long timerId) {
    timers.remove(timerId);
  }

  int activeTimers() {
    return timers.size();
  }

  /** Moves the clock forward, firing each due timer at its own due time, in order. */
  void advance(long ms) {
    long target = nowMs + ms;
    while (true) {
      List<Map.Entry<Long, Periodic>> due = new ArrayList<>(timers.entrySet());
      due.removeIf(e -> e.getValue().nextAtMs > target);
      if (due.isEmpty()) {
        break;
      }
      Map.Entry<Long, Periodic> first = due.stream().min(Comparator.comparingLong(e -> e.getValue().nextAtMs)).get();
      Periodic timer = first.getValue();
      nowMs = timer.nextAtMs;
      if (timer.periodMs == 0) {
        timers.remove(first.getKey());
      } else {
        timer.nextAtMs += timer.periodMs;
      }
      timer.task.run();
    }
    nowMs = target;
  }
}
