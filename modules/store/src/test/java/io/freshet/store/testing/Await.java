package io.freshet.store.testing;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Blocking waits for test threads (never an event loop). */
public final class Await {

  /**
   * How long {@link #until} waits for a condition before it fails the test. It guards against a
   * hang; it claims nothing about speed (a shared 2-core machine may be slow, and timing claims
   * belong in the benchmark), so it is generous.
   */
  public static final long UNTIL_TIMEOUT_MS = 30_000;

  private Await() {}

  public static <T> T result(Future<T> future, long seconds) {
    try {
      return future.await(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out after " + seconds + " s", e);
    }
  }

  /** Polls {@code condition} until it holds; fails the test naming {@code what} if it has not within {@link #UNTIL_TIMEOUT_MS}. */
  public static void until(String what, BooleanSupplier condition) {
    until(() -> what, condition);
  }

  /** As {@link #until(String, BooleanSupplier)}, describing the failure only when there is one (the last value seen, say). */
  public static void until(Supplier<String> what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(UNTIL_TIMEOUT_MS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + UNTIL_TIMEOUT_MS / 1000 + " s waiting for " + what.get());
      }
      pause(10);
    }
  }

  /** Sleeps between two checks of a condition (the only sleep a test should need). */
  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting", e);
    }
  }
}
