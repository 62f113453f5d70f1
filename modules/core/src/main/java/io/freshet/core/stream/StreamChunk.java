package io.freshet.core.stream;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * One stored chunk: its place in the stream, the primary's clock when it was appended, and the
 * line the writer sent. {@link #event()} is its server-sent event, encoded once and shared by
 * every reader on the node.
 *
 * <p>The event id is {@code <atMs>-<seq>}, the shape of the Redis stream ids trigger.dev's v1
 * streams use: the SDK reads the chunk's timestamp from the part before the dash, and sends the
 * whole id back as {@code Last-Event-ID} when it reconnects.
 */
public final class StreamChunk {

  private final long seq;
  private final long atMs;
  private final String data;
  private final Buffer event;

  public StreamChunk(long seq, long atMs, String data) {
    this.seq = seq;
    this.atMs = atMs;
    this.data = data;
    this.event = encode(id(), data);
  }

  public long seq() {
    return seq;
  }

  public long atMs() {
    return atMs;
  }

  public String data() {
    return data;
  }

  public String id() {
    return atMs + "-" + seq;
  }

  /** {@code id: ...} and the data, one {@code data:} line per line of it (SSE cannot carry a raw newline). */
  public Buffer event() {
    return event;
  }

  private static Buffer encode(String id, String data) {
    StringBuilder out = new StringBuilder(data.length() + 40).append("id: ").append(id).append('\n');
    int start = 0;
    int n = data.length();
    for (int i = 0; i < n; i++) {
      char c = data.charAt(i);
      if (c == '\n' || c == '\r') {
        out.append("data: ").append(data, start, i).append('\n');
        if (c == '\r' && i + 1 < n && data.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    out.append("data: ").append(data, start, n).append("\n\n");
    return Buffer.buffer(out.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The seq a {@code Last-Event-ID} names: {@code <atMs>-<seq>} as this server sends, or a bare
   * number (the SDK's {@code startIndex - 1}); null for anything else.
   */
  public static Long seqOfEventId(String id) {
    if (id == null) {
      return null;
    }
    String s = id.trim();
    int dash = s.indexOf('-');
    String seq = dash < 0 ? s : s.substring(dash + 1);
    if (seq.isEmpty() || seq.length() > 18 || (dash >= 0 && (dash == 0 || dash > 18))) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < '0' || c > '9') && i != dash) {
        return null;
      }
    }
    return Long.parseLong(seq);
  }
}
