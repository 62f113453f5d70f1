package io.freshet.producer;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

/**
 * Registers Freshet's event-bus codecs. Call it once per {@link Vertx} instance on every node
 * (publishers and Freshet nodes alike): a clustered receiver can only decode a record whose codec
 * it knows. Calling it again is harmless.
 */
public final class Codecs {

  private Codecs() {}

  public static void register(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    try {
      bus.registerDefaultCodec(ChangeRecord.class, new ChangeRecordCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // registered by an earlier call on this Vertx instance
    }
  }
}
