package io.freshet.router.engine;

import io.vertx.core.Future;
import java.util.LinkedHashSet;
import java.util.Set;

/** The environments an owner is subscribed to, as its tests see them: subscribing succeeds at once. */
public final class FakeSubscriptions implements EnvSubscriptions {

  public final Set<String> subscribed = new LinkedHashSet<>();

  @Override
  public Future<Void> subscribe(String envId) {
    subscribed.add(envId);
    return Future.succeededFuture();
  }

  @Override
  public void unsubscribe(String envId) {
    subscribed.remove(envId);
  }
}
