package io.freshet.lag;

import io.vertx.core.Vertx;

/** The sampler's and the heartbeat probe's timers on Vert.x: they run on the calling verticle's context. */
final class VertxLagScheduler implements LagSampler.Scheduler, HeartbeatProbe.Timers {

  private final Vertx vertx;

  VertxLagScheduler(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public long schedulePeriodic(long periodMs, Runnable task) {
    return vertx.setPeriodic(periodMs, id -> task.run());
  }

  @Override
  public long schedule(long delayMs, Runnable task) {
    return vertx.setTimer(Math.max(1, delayMs), id -> task.run());
  }

  @Override
  public void cancel(long timerId) {
    vertx.cancelTimer(timerId);
  }
}
