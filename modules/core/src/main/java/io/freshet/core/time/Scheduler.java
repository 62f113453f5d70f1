package io.freshet.core.time;

/**
 * Timers, the only way time passes in the node: a task runs once after a delay, or every period,
 * on the context of whoever scheduled it (an event loop), until cancelled. A timer id of -1 stands
 * for "none" and cancelling it does nothing.
 */
public interface Scheduler extends Clock {

  /** Runs {@code task} once, {@code delayMs} from now (at once on the next turn when zero or less). */
  long after(long delayMs, Runnable task);

  /** Runs {@code task} every {@code periodMs}, the first time one period from now. */
  long every(long periodMs, Runnable task);

  /** Cancels a timer; -1 and timers that already ran are ignored. */
  void cancel(long timerId);
}
