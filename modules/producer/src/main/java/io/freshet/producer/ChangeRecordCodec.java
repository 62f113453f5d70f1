package io.freshet.producer;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Compact binary form of a {@link ChangeRecord} for the clustered event bus. A record is published
 * for every write, so it is kept to a few dozen bytes; local delivery passes the immutable record
 * itself.
 *
 * <p>Layout: version byte, envId, runId, watermark flag + long, tag count (-1 for a partial record)
 * + tags, batch flag + batchId; version 2 then the row image: a column count and, per column, its
 * name and a flagged value. Strings are an int length followed by UTF-8 bytes. A record without a
 * row is written as version 1, which every node reads; version 2 only when it carries one.
 */
public final class ChangeRecordCodec implements MessageCodec<ChangeRecord, ChangeRecord> {

  public static final String NAME = "freshet.change-record.v1";
  /** Without a row image: the form every node understands. */
  static final int PLAIN = 1;
  /** With a row image. */
  static final int WITH_ROW = 2;

  @Override
  public void encodeToWire(Buffer buffer, ChangeRecord r) {
    buffer.appendByte((byte) (r.row() == null ? PLAIN : WITH_ROW));
    writeString(buffer, r.envId());
    writeString(buffer, r.runId());
    buffer.appendByte((byte) (r.updatedAtMs() == null ? 0 : 1));
    if (r.updatedAtMs() != null) {
      buffer.appendLong(r.updatedAtMs());
    }
    if (r.tags() == null) {
      buffer.appendInt(-1);
    } else {
      buffer.appendInt(r.tags().size());
      for (String tag : r.tags()) {
        writeString(buffer, tag);
      }
    }
    buffer.appendByte((byte) (r.batchId() == null ? 0 : 1));
    if (r.batchId() != null) {
      writeString(buffer, r.batchId());
    }
    if (r.row() != null) {
      buffer.appendInt(r.row().columns().size());
      r.row().columns().forEach((name, value) -> {
        writeString(buffer, name);
        buffer.appendByte((byte) (value == null ? 0 : 1));
        if (value != null) {
          writeString(buffer, value);
        }
      });
    }
  }

  @Override
  public ChangeRecord decodeFromWire(int pos, Buffer buffer) {
    int[] at = {pos};
    int version = buffer.getByte(at[0]++);
    if (version != PLAIN && version != WITH_ROW) {
      throw new IllegalArgumentException("unsupported change record version " + version);
    }
    String envId = readString(buffer, at);
    String runId = readString(buffer, at);
    Long updatedAtMs = null;
    if (buffer.getByte(at[0]++) == 1) {
      updatedAtMs = buffer.getLong(at[0]);
      at[0] += 8;
    }
    int tagCount = buffer.getInt(at[0]);
    at[0] += 4;
    List<String> tags = null;
    if (tagCount >= 0) {
      tags = new ArrayList<>(tagCount);
      for (int i = 0; i < tagCount; i++) {
        tags.add(readString(buffer, at));
      }
    }
    String batchId = null;
    if (buffer.getByte(at[0]++) == 1) {
      batchId = readString(buffer, at);
    }
    RowImage row = null;
    if (version == WITH_ROW) {
      int columns = buffer.getInt(at[0]);
      at[0] += 4;
      java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
      for (int i = 0; i < columns; i++) {
        String name = readString(buffer, at);
        values.put(name, buffer.getByte(at[0]++) == 1 ? readString(buffer, at) : null);
      }
      row = new RowImage(values);
    }
    return new ChangeRecord(envId, runId, updatedAtMs, tags, batchId, row);
  }

  @Override
  public ChangeRecord transform(ChangeRecord record) {
    return record; // immutable
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  private static void writeString(Buffer buffer, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    buffer.appendInt(bytes.length);
    buffer.appendBytes(bytes);
  }

  private static String readString(Buffer buffer, int[] at) {
    int len = buffer.getInt(at[0]);
    at[0] += 4;
    String s = buffer.getString(at[0], at[0] + len, "UTF-8");
    at[0] += len;
    return s;
  }
}
