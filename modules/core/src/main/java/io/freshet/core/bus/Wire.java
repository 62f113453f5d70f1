package io.freshet.core.bus;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of a message's fields on the clustered event bus: strings are an int length (-1
 * for null) and UTF-8 bytes, lists an int count and their items, an optional long a flag and the
 * value. Only a message that crosses nodes is encoded; on one node the record itself is passed
 * ({@link BusCodec}).
 */
public final class Wire {

  private final Buffer buffer;
  private int at;
  /** Where the message being read ends; a writer's is unused. */
  private final int end;

  private Wire(Buffer buffer, int at, int end) {
    this.buffer = buffer;
    this.at = at;
    this.end = end;
  }

  public static Wire writing(Buffer buffer) {
    return new Wire(buffer, buffer.length(), -1);
  }

  /** Reads the message between {@code pos} and {@code end}. */
  public static Wire reading(Buffer buffer, int pos, int end) {
    return new Wire(buffer, pos, end);
  }

  /**
   * Whether the message has fields past those read so far. A field added at the end of a message
   * keeps its wire form readable both ways during a rolling upgrade: an older node stops before
   * it, and a newer one asks this before reading it from an older node's message.
   */
  public boolean hasMore() {
    return at < end;
  }

  public Wire string(String s) {
    if (s == null) {
      buffer.appendInt(-1);
    } else {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      buffer.appendInt(bytes.length).appendBytes(bytes);
    }
    return this;
  }

  public Wire longValue(long v) {
    buffer.appendLong(v);
    return this;
  }

  public Wire intValue(int v) {
    buffer.appendInt(v);
    return this;
  }

  public Wire bool(boolean v) {
    buffer.appendByte((byte) (v ? 1 : 0));
    return this;
  }

  /** A long that may be absent. */
  public Wire optionalLong(Long v) {
    bool(v != null);
    if (v != null) {
      longValue(v);
    }
    return this;
  }

  public Long optionalLong() {
    return bool() ? longValue() : null;
  }

  /** A string list that may be absent (null). */
  public Wire optionalStrings(List<String> items) {
    bool(items != null);
    if (items != null) {
      strings(items);
    }
    return this;
  }

  public List<String> optionalStrings() {
    return bool() ? strings() : null;
  }

  public Wire strings(List<String> items) {
    buffer.appendInt(items.size());
    items.forEach(this::string);
    return this;
  }

  public String string() {
    int len = buffer.getInt(at);
    at += 4;
    if (len < 0) {
      return null;
    }
    String s = buffer.getString(at, at + len, "UTF-8");
    at += len;
    return s;
  }

  public long longValue() {
    long v = buffer.getLong(at);
    at += 8;
    return v;
  }

  public int intValue() {
    int v = buffer.getInt(at);
    at += 4;
    return v;
  }

  public boolean bool() {
    return buffer.getByte(at++) == 1;
  }

  public byte tag() {
    return buffer.getByte(at++);
  }

  public Wire tag(int tag) {
    buffer.appendByte((byte) tag);
    return this;
  }

  public List<String> strings() {
    int n = intValue();
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(string());
    }
    return out;
  }
}
