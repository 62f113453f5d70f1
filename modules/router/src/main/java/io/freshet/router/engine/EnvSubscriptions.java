package io.freshet.router.engine;

import io.freshet.core.time.Scheduler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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

  /**
   * How long an owner waits for a subscription to be known in the cluster before it goes on
   * without it. Registering a clustered consumer writes to Hazelcast's map of subscriptions, and
   * while a member is frozen that write can wait on a partition the frozen member owns until the
   * member is dropped and the partitions settle: once 44 s (member-cut-off with the master frozen),
   * a client's snapshot waiting all along.
   */
  long WAIT_MS = 1_000;

  /**
   * Completes as {@code subscription} does, or successfully after {@link #WAIT_MS} if it has not
   * landed by then, running {@code late} at that moment: records published on other nodes may not
   * reach the owner until it lands, and the caller reads what it would have missed.
   */
  static Future<Void> awaitAtMost(Future<Void> subscription, Scheduler scheduler, Runnable late) {
    if (subscription.isComplete()) {
      return subscription;
    }
    Promise<Void> go = Promise.promise();
    long timer = scheduler.after(WAIT_MS, () -> {
      if (go.tryComplete()) {
        late.run();
      }
    });
    subscription.onComplete(ar -> {
      scheduler.cancel(timer);
      if (ar.failed()) {
        go.tryFail(ar.cause());
      } else {
        go.tryComplete();
      }
    });
    return go.future();
  }

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
