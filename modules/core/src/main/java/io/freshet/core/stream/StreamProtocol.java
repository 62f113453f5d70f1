package io.freshet.core.stream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.util.List;

/**
 * The node-local messages of realtime streams. The web edge sends the publisher a writer's lines
 * ({@link Append}, answered with {@link Appended}) and asks the node's stream router to follow a
 * stream for its readers ({@link Watch}, answered with {@link Caught}; {@link Unwatch}); the router
 * pushes what it read to each web edge instance watching ({@link Pushes}). All of them stay on
 * one node, so the codec passes the immutable records themselves: a chunk's encoded event is
 * shared by every reader, never copied.
 */
public final class StreamProtocol {

  private StreamProtocol() {}

  /** A marker for the records below. */
  public sealed interface Message permits Append, Appended, Watch, Caught, Unwatch, Pushes {}

  /** One line of a writer's body: its index in the writer's own count, and the line. */
  public record Line(int index, String data) {}

  /**
   * Lines to append, in order, from writer {@code clientId} (null for a single append); with
   * {@code close} the stream is closed after them (the writer ended its body).
   */
  public record Append(StreamRef stream, String clientId, List<Line> lines, boolean close) implements Message {}

  /** The stream's last seq after the append (-1: still empty). */
  public record Appended(long lastSeq) implements Message {}

  /** Follow {@code stream} for the readers of web edge {@code sink}, from after {@code afterSeq} (-1: from the start). */
  public record Watch(StreamRef stream, long afterSeq, String sink) implements Message {}

  /**
   * What the watcher missed: chunks after its seq, in order, and whether the stream is complete
   * after them. {@code more}: there is more before the router's tail; ask again from the last one.
   */
  public record Caught(List<StreamChunk> chunks, boolean complete, boolean more) implements Message {}

  public record Unwatch(StreamRef stream, String sink) implements Message {}

  /** One delivery round's growth of some streams a sink watches. */
  public record Pushes(List<Push> pushes) implements Message {}

  /** New chunks of one stream (maybe none), and whether it is complete after them. */
  public record Push(StreamRef stream, List<StreamChunk> chunks, boolean complete) {}

  private static final List<Class<? extends Message>> TYPES =
      List.of(Append.class, Appended.class, Watch.class, Caught.class, Unwatch.class, Pushes.class);

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
