package io.freshet.router;

import io.vertx.core.Vertx;

/** Timers, the only way time passes in the router: {@code vertx.setTimer} in production, a fake in tests. */
public interface Scheduler {

  long schedule(long delayMs, Runnable task);

  void cancel(long timerId);

  /** Vert.x timers (at least 1 ms: Vert.x refuses a zero delay), on the caller's context. */
  static Scheduler on(Vertx vertx) {
    return new Scheduler() {
      @Override
      public long schedule(long delayMs, Runnable task) {
        return vertx.setTimer(Math.max(1, delayMs), id -> task.run());
      }

      @Override
      public void cancel(long timerId) {
        if (timerId >= 0) {
          vertx.cancelTimer(timerId);
        }
      }
    };
  }
}
