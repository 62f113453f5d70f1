package io.freshet.lag;

import io.vertx.core.Vertx;

/** {@link LagSampler.Scheduler} on Vert.x timers: ticks run on the calling verticle's context. */
final class VertxLagScheduler implements LagSampler.Scheduler {

  private final Vertx vertx;

  VertxLagScheduler(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public long schedulePeriodic(long periodMs, Runnable task) {
    return vertx.setPeriodic(periodMs, id -> task.run());
  }

  @Override
  public void cancel(long timerId) {
    vertx.cancelTimer(timerId);
  }
}
