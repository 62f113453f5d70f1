package io.freshet.router.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The environments an owner is subscribed to, as its tests see them: subscribing succeeds at once,
 * or, after {@link #hold()}, when the test releases it (a registration stuck in the cluster).
 */
public final class FakeSubscriptions implements EnvSubscriptions {

  public final Set<String> subscribed = new LinkedHashSet<>();
  private final Map<String, Promise<Void>> held = new HashMap<>();
  private boolean holding;

  /** Subscriptions from now on complete only when {@link #release released}. */
  public void hold() {
    holding = true;
  }

  /** The environment's held subscription completes: records from anywhere reach its owner now. */
  public void release(String envId) {
    holding = false;
    held.remove(envId).complete();
  }

  @Override
  public Future<Void> subscribe(String envId) {
    subscribed.add(envId);
    if (holding) {
      return held.computeIfAbsent(envId, k -> Promise.promise()).future();
    }
    return Future.succeededFuture();
  }

  @Override
  public void unsubscribe(String envId) {
    subscribed.remove(envId);
  }
}
