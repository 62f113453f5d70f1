package io.freshet.core.push;

import io.vertx.core.buffer.Buffer;

/**
 * A stretch of a followed log, already encoded as server-sent events: what brings a reader at
 * position {@link #from} to position {@link #to}. A feed log's positions are its entries
 * ({@link io.freshet.core.feed.LogSlice}); a stream's are its chunks' seqs
 * ({@link io.freshet.core.stream.ChunkSlice}). Immutable and shared: every reader at the same
 * position of the same log is written the very same bytes.
 */
public interface Slice {

  long from();

  long to();

  boolean isEmpty();

  /**
   * The events that bring a reader at {@code position} to {@link #to}: empty when it is there
   * already, null when the slice starts after it (a gap: the reader asks for what lies between).
   */
  Buffer eventsAfter(long position);
}
