package io.freshet.api;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;

/**
 * Concurrent live connections per environment, counted across the whole cluster with a shared
 * counter (Hazelcast when clustered, local otherwise). Past the limit: 429, which realtime clients
 * retry with backoff. The returned {@link Runnable} releases the slot exactly once.
 */
final class ConnectionLimiter {

  private final Vertx vertx;
  private final long limit;

  ConnectionLimiter(Vertx vertx, long limit) {
    this.vertx = vertx;
    this.limit = limit;
  }

  Future<Runnable> acquire(String envId) {
    return vertx.sharedData().getCounter("freshet.connections." + envId).compose(counter ->
        counter.incrementAndGet().compose(count -> {
          Runnable release = once(counter);
          if (count > limit) {
            release.run();
            return Future.failedFuture(new FreshetException(429,
                "too many concurrent realtime connections for this environment (limit " + limit + ")"));
          }
          return Future.succeededFuture(release);
        }));
  }

  private static Runnable once(Counter counter) {
    boolean[] released = {false};
    return () -> {
      if (!released[0]) {
        released[0] = true;
        counter.decrementAndGet();
      }
    };
  }
}
