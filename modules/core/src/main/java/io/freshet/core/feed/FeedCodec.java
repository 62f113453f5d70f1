package io.freshet.core.feed;

import io.freshet.core.bus.Wire;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.util.List;

/**
 * The event-bus codec of one feed protocol record. Encoding is {@link FeedProtocol}'s (a length
 * prefix, then a tag and the fields); on one node the immutable record itself is passed, so a
 * {@link LogSlice} and its encoded bodies are shared, never copied.
 */
public final class FeedCodec<T extends FeedProtocol.Message> implements MessageCodec<T, T> {

  private static final List<Class<? extends FeedProtocol.Message>> TYPES = List.of(
      FeedProtocol.Open.class, FeedProtocol.Poll.class, FeedProtocol.Cancel.class, FeedProtocol.Watch.class,
      FeedProtocol.Unwatch.class, FeedProtocol.Refresh.class, FeedProtocol.Answer.class,
      FeedProtocol.Refreshed.class, FeedProtocol.Pushes.class);

  private final Class<T> type;

  private FeedCodec(Class<T> type) {
    this.type = type;
  }

  /** Registers a default codec for every feed protocol record on {@code vertx}'s event bus (idempotent). */
  public static void register(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    for (Class<? extends FeedProtocol.Message> type : TYPES) {
      registerOne(bus, type);
    }
  }

  private static <T extends FeedProtocol.Message> void registerOne(EventBus bus, Class<T> type) {
    try {
      bus.registerDefaultCodec(type, new FeedCodec<>(type));
    } catch (IllegalStateException alreadyRegistered) {
      // an earlier call on this Vertx instance
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    int lengthAt = buffer.length();
    buffer.appendInt(0);
    FeedProtocol.write(Wire.writing(buffer), message);
    buffer.setInt(lengthAt, buffer.length() - lengthAt - 4);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    return type.cast(FeedProtocol.read(Wire.reading(buffer, pos + 4)));
  }

  @Override
  public T transform(T message) {
    return message; // immutable
  }

  @Override
  public String name() {
    return "freshet.feed." + type.getSimpleName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
