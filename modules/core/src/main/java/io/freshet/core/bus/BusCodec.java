package io.freshet.core.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The event-bus codec of one message record. On one node the immutable record itself is passed (an
 * encoded slice or chunk is shared by every receiver, never copied); across nodes it is written
 * field by field with {@link Wire}, behind a length prefix. A node-local message has no wire form:
 * sending one to another node is a bug, and fails loudly.
 */
public final class BusCodec<T> implements MessageCodec<T, T> {

  private final Class<T> type;
  private final BiConsumer<Wire, T> write;
  private final Function<Wire, T> read;

  private BusCodec(Class<T> type, BiConsumer<Wire, T> write, Function<Wire, T> read) {
    this.type = type;
    this.write = write;
    this.read = read;
  }

  /** A message that crosses nodes. */
  public static <T> BusCodec<T> wire(Class<T> type, BiConsumer<Wire, T> write, Function<Wire, T> read) {
    return new BusCodec<>(type, write, read);
  }

  /** A message that never leaves its node. */
  public static <T> BusCodec<T> local(Class<T> type) {
    return new BusCodec<>(type, null, null);
  }

  /** Registers this codec as its type's default (idempotent: a second registration is ignored). */
  public void register(EventBus bus) {
    try {
      bus.registerDefaultCodec(type, this);
    } catch (IllegalStateException alreadyRegistered) {
      // an earlier call on this Vertx instance
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    if (write == null) {
      throw new IllegalStateException(type.getSimpleName() + " is node-local and never crosses the cluster");
    }
    int lengthAt = buffer.length();
    buffer.appendInt(0);
    write.accept(Wire.writing(buffer), message);
    buffer.setInt(lengthAt, buffer.length() - lengthAt - 4);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    if (read == null) {
      throw new IllegalStateException(type.getSimpleName() + " is node-local and never crosses the cluster");
    }
    return read.apply(Wire.reading(buffer, pos + 4, pos + 4 + buffer.getInt(pos)));
  }

  @Override
  public T transform(T message) {
    return message; // immutable
  }

  @Override
  public String name() {
    return "freshet." + type.getName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
