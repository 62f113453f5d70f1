package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {

  private final Vertx vertx = Vertx.vertx();
  private final CredentialLimits credentials = new CredentialLimits(100, 100, 100, 100, Clock.SYSTEM);

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void theEnvironmentsCountCapsConnectionsAndEachReleaseGivesOneBack() throws Exception {
    ConnectionLimiter limiter = new ConnectionLimiter(vertx, 2, credentials);
    Principal key = Principal.secretKey("env_1");

    Runnable first = acquire(limiter, key).await(5, TimeUnit.SECONDS);
    acquire(limiter, key).await(5, TimeUnit.SECONDS);
    Throwable third = acquire(limiter, key).transform(ar -> Future.succeededFuture(ar.cause())).await(5, TimeUnit.SECONDS);
    assertThat(third).isInstanceOf(FreshetException.class).hasMessageContaining("limit 2");

    first.run();
    first.run(); // once only
    assertThat(acquire(limiter, key).await(5, TimeUnit.SECONDS)).isNotNull();
    Throwable again = acquire(limiter, key).transform(ar -> Future.succeededFuture(ar.cause())).await(5, TimeUnit.SECONDS);
    assertThat(again).as("one slot came back, not two").isInstanceOf(FreshetException.class);
  }

  @Test
  void aCountTheClusterDoesNotAnswerAdmitsTheConnectionAfterTheWaitAndIsTakenBackWhenItLands() throws Exception {
    Promise<Long> late = Promise.promise();
    AtomicInteger decrements = new AtomicInteger();
    Counter stuck = new Counter() {
      @Override public Future<Long> get() { return Future.succeededFuture(0L); }
      @Override public Future<Long> incrementAndGet() { return late.future(); }
      @Override public Future<Long> getAndIncrement() { return late.future(); }
      @Override public Future<Long> decrementAndGet() { decrements.incrementAndGet(); return Future.succeededFuture(0L); }
      @Override public Future<Long> addAndGet(long value) { return late.future(); }
      @Override public Future<Long> getAndAdd(long value) { return late.future(); }
      @Override public Future<Boolean> compareAndSet(long expected, long value) { return Future.succeededFuture(false); }
    };
    ConnectionLimiter limiter = new ConnectionLimiter(vertx, 2, credentials, name -> Future.succeededFuture(stuck));

    long started = System.nanoTime();
    Runnable admitted = acquire(limiter, Principal.secretKey("env_1")).await(5, TimeUnit.SECONDS);
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(admitted).as("admitted on the per-credential limit alone").isNotNull();
    assertThat(waitedMs).as("after the wait, not before").isGreaterThanOrEqualTo(ConnectionLimiter.COUNTER_WAIT_MS - 50);
    vertx.runOnContext(v -> late.complete(1L)); // the cluster answers at last
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (decrements.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(decrements.get()).as("the late increment is taken back").isEqualTo(1);
    admitted.run();
    assertThat(decrements.get()).as("releasing an uncounted connection touches no counter").isEqualTo(1);
  }

  @Test
  void aCounterThatCannotBeCreatedAdmitsAtOnceAndIsAskedForAgainNextTime() throws Exception {
    List<String> asked = new ArrayList<>();
    ConnectionLimiter limiter = new ConnectionLimiter(vertx, 2, credentials, name -> {
      asked.add(name);
      return Future.failedFuture(new IllegalStateException("no cluster"));
    });

    assertThat(acquire(limiter, Principal.secretKey("env_1")).await(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(acquire(limiter, Principal.secretKey("env_1")).await(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(asked).containsExactly("freshet.connections.env_1", "freshet.connections.env_1");
  }

  /** Acquires on an event loop, as the edge does. */
  private Future<Runnable> acquire(ConnectionLimiter limiter, Principal principal) {
    Promise<Runnable> result = Promise.promise();
    vertx.runOnContext(v -> limiter.acquire(principal).onComplete(result));
    return result.future();
  }
}
