package io.freshet.router.streams;

import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import io.freshet.router.engine.ReadSource;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Stream chunks as the gated read sees them: a key is a stream, a read returns the chunks after
 * what its log has delivered and reaches the last one's seq. The tripwire is the seq: a read that
 * stops short of a commit's seq ran before the replica applied it, and what it did return is still
 * final (seq order is commit order, so a replica that has seq k has every chunk before it): the
 * engine delivers that prefix at once.
 */
final class ChunkReadSource implements ReadSource<StreamRef, List<StreamChunk>> {

  /** Chunks of one stream per read; a stream further behind is read again at once. */
  static final int CHUNKS_PER_READ = 1000;

  private final StreamSource source;
  private final ToLongFunction<StreamRef> delivered;

  /** @param delivered the last seq each stream's log has delivered (reads start after it) */
  ChunkReadSource(StreamSource source, ToLongFunction<StreamRef> delivered) {
    this.source = source;
    this.delivered = delivered;
  }

  @Override
  public Future<Readings<StreamRef, List<StreamChunk>>> read(Collection<StreamRef> streams, Where where, int replica) {
    List<StreamRef> order = new ArrayList<>(streams);
    List<StreamSource.ChunkRead> reads = new ArrayList<>(order.size());
    for (StreamRef stream : order) {
      reads.add(new StreamSource.ChunkRead(stream, delivered.applyAsLong(stream), CHUNKS_PER_READ));
    }
    return source.read(reads, where == Where.PRIMARY, replica).map(found -> {
      Map<StreamRef, Reading<List<StreamChunk>>> byStream = new HashMap<>();
      for (int i = 0; i < order.size(); i++) {
        List<StreamChunk> chunks = found.get(i);
        long after = reads.get(i).afterSeq();
        long reached = chunks.isEmpty() ? after : chunks.get(chunks.size() - 1).seq();
        byStream.put(order.get(i), new Reading<>(chunks.isEmpty() ? null : chunks, reached, chunks.size() >= CHUNKS_PER_READ));
      }
      return new Readings<>(byStream, null);
    });
  }

  @Override
  public boolean deliversPrefix() {
    return true;
  }
}
