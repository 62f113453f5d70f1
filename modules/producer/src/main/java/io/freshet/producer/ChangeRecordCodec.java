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
 * + tags, batch flag + batchId. Strings are an int length followed by UTF-8 bytes.
 */
public final class ChangeRecordCodec implements MessageCodec<ChangeRecord, ChangeRecord> {

  public static final String NAME = "freshet.change-record.v1";

  @Override
  public void encodeToWire(Buffer buffer, ChangeRecord r) {
    buffer.appendByte((byte) ChangeRecord.VERSION);
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
  }

  @Override
  public ChangeRecord decodeFromWire(int pos, Buffer buffer) {
    int[] at = {pos};
    int version = buffer.getByte(at[0]++);
    if (version != ChangeRecord.VERSION) {
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
    return new ChangeRecord(envId, runId, updatedAtMs, tags, batchId);
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
