package io.freshet.router;

/** Timers, the only way time passes in the router: {@code vertx.setTimer} in production, a fake in tests. */
public interface Scheduler {

  long schedule(long delayMs, Runnable task);

  void cancel(long timerId);
}
