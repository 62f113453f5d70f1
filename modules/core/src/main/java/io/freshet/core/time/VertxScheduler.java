package io.freshet.core.time;

import io.vertx.core.Vertx;

/**
 * {@link Scheduler} on Vert.x timers and the machine's clock. Timers run on the calling verticle's
 * context, as {@code vertx.setTimer} does. Vert.x refuses a delay below 1 ms, so "now" is 1 ms.
 */
public final class VertxScheduler implements Scheduler {

  private final Vertx vertx;

  private VertxScheduler(Vertx vertx) {
    this.vertx = vertx;
  }

  public static Scheduler on(Vertx vertx) {
    return new VertxScheduler(vertx);
  }

  @Override
  public long nowMs() {
    return System.currentTimeMillis();
  }

  @Override
  public long after(long delayMs, Runnable task) {
    return vertx.setTimer(Math.max(1, delayMs), id -> task.run());
  }

  @Override
  public long every(long periodMs, Runnable task) {
    return vertx.setPeriodic(Math.max(1, periodMs), id -> task.run());
  }

  @Override
  public void cancel(long timerId) {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
  }
}
