package io.freshet.core.feed;

import io.freshet.core.bus.Wire;
import io.freshet.core.push.Slice;

import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What a client at offset {@code from} needs to reach offset {@code to} of a feed log: the change
 * messages, already encoded. Immutable and shared: every client at the same offset of the same log
 * gets this very object (on one node) and so byte-identical responses, and each wire form (the
 * long-poll body, the SSE events) is built once, whichever client asks first.
 */
public final class LogSlice implements Slice {

  private final long from;
  private final long to;
  private final List<String> messages;
  private volatile String body;
  private volatile Buffer events;

  private LogSlice(long from, long to, List<String> messages) {
    this.from = from;
    this.to = to;
    this.messages = List.copyOf(messages);
  }

  public static LogSlice of(long from, long to, List<String> messages) {
    return new LogSlice(from, to, messages);
  }

  /** Nothing new: the client stays at {@code offset}. */
  public static LogSlice unchanged(long offset) {
    return new LogSlice(offset, offset, List.of());
  }

  @Override
  public long from() {
    return from;
  }

  @Override
  public long to() {
    return to;
  }

  public List<String> messages() {
    return messages;
  }

  @Override
  public boolean isEmpty() {
    return messages.isEmpty();
  }

  /** The long-poll / snapshot response body. */
  public String electricBody() {
    String b = body;
    if (b == null) {
      b = ElectricWire.body(messages, to);
      body = b;
    }
    return b;
  }

  /**
   * The SSE events for this slice (its messages, then up-to-date), or an empty buffer when it has
   * no message. The buffer is written as it is to every session: Vert.x heap buffers are never
   * released, and each write takes its own view of the bytes.
   */
  public Buffer sseEvents() {
    if (messages.isEmpty()) {
      return Buffer.buffer();
    }
    Buffer e = events;
    if (e == null) {
      e = Buffer.buffer(ElectricWire.sseEvents(messages, to));
      events = e;
    }
    return e;
  }

  /**
   * A log's entries cannot be cut: a reader inside the slice is written all of it (its messages are
   * upserts by key, so the few it had already are harmless).
   */
  @Override
  public Buffer eventsAfter(long position) {
    if (position < from) {
      return null;
    }
    return position >= to ? Buffer.buffer() : sseEvents();
  }

  public void write(Wire out) {
    out.longValue(from).longValue(to).strings(messages);
  }

  public static LogSlice read(Wire in) {
    return new LogSlice(in.longValue(), in.longValue(), in.strings());
  }

  @Override
  public String toString() {
    return "LogSlice[" + from + "→" + to + ", " + messages.size() + " messages]";
  }
}
