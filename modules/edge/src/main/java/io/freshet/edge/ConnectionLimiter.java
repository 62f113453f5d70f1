package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Concurrent live connections, per credential on this node ({@link CredentialLimits}: a noisy
 * token or key reaches its own limit first) and per environment across the whole cluster with a
 * shared counter (Hazelcast when clustered, local otherwise). Past either limit: 429, which
 * realtime clients retry with backoff. The returned {@link Runnable} releases both slots exactly
 * once. Feed opens are rated per credential through the same door ({@link #admitFeedOpen}).
 *
 * <p>The cluster counter never holds the event loop or a connection for long. Vert.x's Hazelcast
 * cluster manager creates a counter with a blocking map call on the calling thread, which, while
 * the member owning that partition was frozen (SIGSTOP, a stalled VM), blocked this event loop for
 * seconds, and every request on it (writes included) with it. So each environment's counter is
 * created once, on a worker thread, and kept; and a count that does not come back within
 * {@link #COUNTER_WAIT_MS} admits the connection on the per-credential limit alone (the
 * environment's cap is a guard against runaway clients, not worth an outage), undoing the
 * increment if it lands later.
 */
final class ConnectionLimiter {

  /** How long a connection waits for the cluster's count before it is admitted without it. */
  static final long COUNTER_WAIT_MS = 1_000;

  private final Vertx vertx;
  private final long limit;
  private final CredentialLimits credentials;
  /** Each environment's counter once created (or being created); on this edge instance's event loop only. */
  private final Map<String, Future<Counter>> counters = new HashMap<>();
  private final Function<String, Future<Counter>> create;

  ConnectionLimiter(Vertx vertx, long limit, CredentialLimits credentials) {
    this(vertx, limit, credentials, null);
  }

  /** {@code create}: how a counter is made by name (tests); null for the cluster's, on a worker thread. */
  ConnectionLimiter(Vertx vertx, long limit, CredentialLimits credentials, Function<String, Future<Counter>> create) {
    this.vertx = vertx;
    this.limit = limit;
    this.credentials = credentials;
    this.create = create != null ? create : name -> vertx.executeBlocking(
        () -> vertx.sharedData().getCounter(name).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS), false);
  }

  Future<Runnable> acquire(Principal principal) {
    Runnable own;
    try {
      own = credentials.acquireConnection(principal);
    } catch (FreshetException e) {
      return Future.failedFuture(e);
    }
    Promise<Runnable> admitted = Promise.promise();
    long timer = vertx.setTimer(COUNTER_WAIT_MS, t -> admitted.tryComplete(own));
    counter(principal.envId()).compose(counter -> counter.incrementAndGet().map(count -> {
      Runnable release = once(counter, own);
      if (admitted.future().isComplete()) {
        counter.decrementAndGet(); // admitted without this count meanwhile: take it back
        return null;
      }
      if (count > limit) {
        release.run();
        admitted.tryFail(new FreshetException(429,
            "too many concurrent realtime connections for this environment (limit " + limit + ")"));
      } else {
        admitted.tryComplete(release);
      }
      return null;
    })).onFailure(e -> {
      // No count (the cluster cannot answer): the per-credential limit alone, as after the wait.
      admitted.tryComplete(own);
    }).onComplete(ar -> vertx.cancelTimer(timer));
    return admitted.future();
  }

  /** A feed open (offset -1 or now) of the principal's credential, within its rate; 429 past it. */
  void admitFeedOpen(Principal principal) {
    credentials.admitFeedOpen(principal);
  }

  /** The environment's cluster-wide counter, created on a worker thread the first time. */
  private Future<Counter> counter(String envId) {
    Future<Counter> known = counters.get(envId);
    if (known != null) {
      return known;
    }
    Future<Counter> created = create.apply("freshet.connections." + envId);
    counters.put(envId, created);
    created.onFailure(e -> counters.remove(envId, created));
    return created;
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
