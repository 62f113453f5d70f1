package io.freshet.core.stream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.util.List;

/**
 * The node-local messages of a stream's writer: the web edge sends the publisher a writer's lines
 * ({@link Append}, answered with {@link Appended}). Readers follow streams through the push path
 * ({@link io.freshet.core.push.PushProtocol}), shared with feeds.
 */
public final class StreamProtocol {

  private StreamProtocol() {}

  /** A marker for the records below. */
  public sealed interface Message permits Append, Appended {}

  /** One line of a writer's body: its index in the writer's own count, and the line. */
  public record Line(int index, String data) {}

  /**
   * Lines to append, in order, from writer {@code clientId} (null for a single append); with
   * {@code close} the stream is closed after them (the writer ended its body).
   */
  public record Append(StreamRef stream, String clientId, List<Line> lines, boolean close) implements Message {}

  /** The stream's last seq after the append (-1: still empty). */
  public record Appended(long lastSeq) implements Message {}

  private static final List<Class<? extends Message>> TYPES =
      List.of(Append.class, Appended.class);

  /** Registers the pass-through codec of each message on {@code vertx}'s event bus (idempotent). */
  public static void register(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    for (Class<? extends Message> type : TYPES) {
      registerOne(bus, type);
    }
  }

  private static <T extends Message> void registerOne(EventBus bus, Class<T> type) {
    try {
      bus.registerDefaultCodec(type, new LocalCodec<>(type));
    } catch (IllegalStateException alreadyRegistered) {
      // an earlier call on this Vertx instance
    }
  }

  /** Node-local only: these messages are never sent to another node. */
  private record LocalCodec<T extends Message>(Class<T> type) implements MessageCodec<T, T> {
    @Override
    public void encodeToWire(Buffer buffer, T message) {
      throw new IllegalStateException(type.getSimpleName() + " is node-local and never crosses the cluster");
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      throw new IllegalStateException(type.getSimpleName() + " is node-local and never crosses the cluster");
    }

    @Override
    public T transform(T message) {
      return message;
    }

    @Override
    public String name() {
      return "freshet-stream-" + type.getSimpleName();
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
