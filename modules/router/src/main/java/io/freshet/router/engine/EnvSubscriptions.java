package io.freshet.router.engine;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An owner's subscriptions to the environments it follows: a router to their change records, the
 * stream router to their stream announcements. One address per environment, so a node only
 * receives the environments it holds logs for.
 */
public interface EnvSubscriptions {

  /** Completes once messages published anywhere in the cluster reach this owner. */
  Future<Void> subscribe(String envId);

  void unsubscribe(String envId);

  /** Clustered consumers of {@code address(envId)}, each message handed to {@code handler}. */
  static <T> EnvSubscriptions on(Vertx vertx, Function<String, String> address, Consumer<T> handler) {
    Map<String, MessageConsumer<T>> consumers = new HashMap<>();
    return new EnvSubscriptions() {
      @Override
      public Future<Void> subscribe(String envId) {
        MessageConsumer<T> consumer = vertx.eventBus().consumer(address.apply(envId), message -> handler.accept(message.body()));
        consumers.put(envId, consumer);
        return consumer.completion();
      }

      @Override
      public void unsubscribe(String envId) {
        MessageConsumer<T> consumer = consumers.remove(envId);
        if (consumer != null) {
          consumer.unregister();
        }
      }
    };
  }
}
