package io.freshet.core.stream;

import io.freshet.core.bus.Wire;
import io.freshet.core.push.Slice;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Consecutive chunks of a stream as a {@link Slice}: positions are seqs, so the slice takes a reader
 * from the seq before its first chunk to its last chunk's seq. Each chunk's event is encoded once
 * ({@link StreamChunk#event()}); a reader anywhere inside the slice is written the chunks after its
 * position, and the whole slice's bytes are built once for every reader that starts where it does.
 */
public final class ChunkSlice implements Slice {

  private final long from;
  private final List<StreamChunk> chunks;
  private volatile Buffer whole;

  private ChunkSlice(long from, List<StreamChunk> chunks) {
    this.from = from;
    this.chunks = List.copyOf(chunks);
  }

  /**
   * {@code chunks} in seq order, consecutive (a stream's seqs have no holes: they are numbered by
   * its counter, in commit order); an empty slice stands at {@code position}.
   */
  public static ChunkSlice of(long position, List<StreamChunk> chunks) {
    return new ChunkSlice(chunks.isEmpty() ? position : chunks.get(0).seq() - 1, chunks);
  }

  public List<StreamChunk> chunks() {
    return chunks;
  }

  @Override
  public long from() {
    return from;
  }

  @Override
  public long to() {
    return chunks.isEmpty() ? from : chunks.get(chunks.size() - 1).seq();
  }

  @Override
  public boolean isEmpty() {
    return chunks.isEmpty();
  }

  @Override
  public Buffer eventsAfter(long position) {
    if (position < from) {
      return null;
    }
    if (position == from) {
      Buffer b = whole;
      if (b == null) {
        b = concat(0);
        whole = b;
      }
      return b;
    }
    return concat((int) Math.min(chunks.size(), position - from));
  }

  private Buffer concat(int start) {
    Buffer out = Buffer.buffer();
    for (int i = start; i < chunks.size(); i++) {
      out.appendBuffer(chunks.get(i).event());
    }
    return out;
  }

  public void write(Wire out) {
    out.longValue(from).intValue(chunks.size());
    for (StreamChunk chunk : chunks) {
      out.longValue(chunk.seq()).longValue(chunk.atMs()).string(chunk.data());
    }
  }

  public static ChunkSlice read(Wire in) {
    long from = in.longValue();
    int n = in.intValue();
    List<StreamChunk> chunks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      chunks.add(new StreamChunk(in.longValue(), in.longValue(), in.string()));
    }
    return new ChunkSlice(from, chunks);
  }

  @Override
  public String toString() {
    return "ChunkSlice[" + from + "→" + to() + "]";
  }
}
