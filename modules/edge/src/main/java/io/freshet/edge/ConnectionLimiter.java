package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;

/**
 * Concurrent live connections, per credential on this node ({@link CredentialLimits}: a noisy
 * token or key reaches its own limit first) and per environment across the whole cluster with a
 * shared counter (Hazelcast when clustered, local otherwise). Past either limit: 429, which
 * realtime clients retry with backoff. The returned {@link Runnable} releases both slots exactly
 * once. Feed opens are rated per credential through the same door ({@link #admitFeedOpen}).
 */
final class ConnectionLimiter {

  private final Vertx vertx;
  private final long limit;
  private final CredentialLimits credentials;

  ConnectionLimiter(Vertx vertx, long limit, CredentialLimits credentials) {
    this.vertx = vertx;
    this.limit = limit;
    this.credentials = credentials;
  }

  Future<Runnable> acquire(Principal principal) {
    Runnable own;
    try {
      own = credentials.acquireConnection(principal);
    } catch (FreshetException e) {
      return Future.failedFuture(e);
    }
    String envId = principal.envId();
    return vertx.sharedData().getCounter("freshet.connections." + envId).compose(counter ->
        counter.incrementAndGet().compose(count -> {
          Runnable release = once(counter, own);
          if (count > limit) {
            release.run();
            return Future.failedFuture(new FreshetException(429,
                "too many concurrent realtime connections for this environment (limit " + limit + ")"));
          }
          return Future.succeededFuture(release);
        })).onFailure(e -> own.run());
  }

  /** A feed open (offset -1 or now) of the principal's credential, within its rate; 429 past it. */
  void admitFeedOpen(Principal principal) {
    credentials.admitFeedOpen(principal);
  }

  private static Runnable once(Counter counter, Runnable own) {
    boolean[] released = {false};
    return () -> {
      if (!released[0]) {
        released[0] = true;
        counter.decrementAndGet();
        own.run();
      }
    };
  }
}
