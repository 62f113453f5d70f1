package io.freshet.core.feed;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of the feed protocol's fields on the clustered event bus: strings are an int
 * length (-1 for null) and UTF-8 bytes, lists an int count and their items. Only a message that
 * crosses nodes is encoded; on one node the record itself is passed.
 */
final class Wire {

  private final Buffer buffer;
  private int at;

  private Wire(Buffer buffer, int at) {
    this.buffer = buffer;
    this.at = at;
  }

  static Wire writing(Buffer buffer) {
    return new Wire(buffer, buffer.length());
  }

  static Wire reading(Buffer buffer, int pos) {
    return new Wire(buffer, pos);
  }

  Wire string(String s) {
    if (s == null) {
      buffer.appendInt(-1);
    } else {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      buffer.appendInt(bytes.length).appendBytes(bytes);
    }
    return this;
  }

  Wire longValue(long v) {
    buffer.appendLong(v);
    return this;
  }

  Wire intValue(int v) {
    buffer.appendInt(v);
    return this;
  }

  Wire bool(boolean v) {
    buffer.appendByte((byte) (v ? 1 : 0));
    return this;
  }

  Wire strings(List<String> items) {
    buffer.appendInt(items.size());
    items.forEach(this::string);
    return this;
  }

  String string() {
    int len = buffer.getInt(at);
    at += 4;
    if (len < 0) {
      return null;
    }
    String s = buffer.getString(at, at + len, "UTF-8");
    at += len;
    return s;
  }

  long longValue() {
    long v = buffer.getLong(at);
    at += 8;
    return v;
  }

  int intValue() {
    int v = buffer.getInt(at);
    at += 4;
    return v;
  }

  boolean bool() {
    return buffer.getByte(at++) == 1;
  }

  byte tag() {
    return buffer.getByte(at++);
  }

  Wire tag(int tag) {
    buffer.appendByte((byte) tag);
    return this;
  }

  List<String> strings() {
    int n = intValue();
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(string());
    }
    return out;
  }
}
