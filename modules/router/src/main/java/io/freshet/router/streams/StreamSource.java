package io.freshet.router.streams;

import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Future;
import java.util.List;

/** Where a stream router reads: a stream's state on the primary, and chunks from the replica or the primary. */
public interface StreamSource {

  /**
   * A stream as the primary has it: whether its run ended, whether the stream exists, its last
   * seq (-1: no chunk), the primary's clock at its last append (null: none), and whether it is closed.
   */
  record StreamState(boolean runEnded, boolean exists, long lastSeq, Long appendedAtMs, boolean closed) {}

  /** Chunks of {@code stream} after {@code afterSeq}, at most {@code limit}. */
  record ChunkRead(StreamRef stream, long afterSeq, int limit) {}

  /** The stream's state on the primary; null when its run does not exist in its environment. */
  Future<StreamState> primaryState(StreamRef stream);

  /** For each read, in order, its chunks in seq order; from the primary when {@code primary}, else the replica. */
  Future<List<List<StreamChunk>>> read(List<ChunkRead> reads, boolean primary);

  /** The same, from read replica {@code replica} (numbered from 0 in {@code db.replica.uris} order) unless {@code primary}. */
  default Future<List<List<StreamChunk>>> read(List<ChunkRead> reads, boolean primary, int replica) {
    return read(reads, primary);
  }
}
