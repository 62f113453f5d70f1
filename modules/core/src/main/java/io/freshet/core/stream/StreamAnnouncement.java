package io.freshet.core.stream;

import io.freshet.core.bus.BusCodec;
import io.freshet.core.bus.Wire;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * What the writer side publishes on the clustered bus after each commit of an environment's
 * streams: per stream, the last seq now committed and the primary's clock at that commit (the
 * watermark readers gate replica reads on), whether the stream is closed, and the chunks that commit
 * appended when the writer had them all in hand (up to {@code router.rowImageMaxBytes}): a node
 * whose readers are right behind them pushes them at once, and reads the replica only to catch up.
 * It also lists the runs that ended (every stream of theirs is complete, even one never written to).
 */
public record StreamAnnouncement(String envId, List<Item> items, List<String> endedRuns) {

  /**
   * One stream's state after the commit; {@code lastSeq} is -1 for a stream without chunks.
   * {@code chunks} are the commit's own chunks, consecutive and ending at {@code lastSeq}, or empty
   * when the announcement does not carry them (too large, or the writer could not tell which lines
   * were stored).
   */
  public record Item(String runId, String key, long lastSeq, long atMs, boolean closed, List<StreamChunk> chunks) {
    public Item {
      chunks = List.copyOf(chunks);
    }

    /** An item that carries no chunks. */
    public Item(String runId, String key, long lastSeq, long atMs, boolean closed) {
      this(runId, key, lastSeq, atMs, closed, List.of());
    }

    /** The bytes of the chunks it carries. */
    public int carriedBytes() {
      int bytes = 0;
      for (StreamChunk chunk : chunks) {
        bytes += chunk.data().length();
      }
      return bytes;
    }
  }

  public StreamAnnouncement {
    items = List.copyOf(items);
    endedRuns = List.copyOf(endedRuns);
  }

  /** Registers its codec (clustered: every node with readers of the environment receives it). */
  public static void register(EventBus bus) {
    BusCodec.wire(StreamAnnouncement.class, StreamAnnouncement::write, StreamAnnouncement::read).register(bus);
  }

  private static void write(Wire out, StreamAnnouncement a) {
    out.string(a.envId).intValue(a.items.size());
    for (Item item : a.items) {
      out.string(item.runId).string(item.key).longValue(item.lastSeq).longValue(item.atMs).bool(item.closed);
      out.intValue(item.chunks.size());
      for (StreamChunk chunk : item.chunks) {
        out.longValue(chunk.seq()).longValue(chunk.atMs()).string(chunk.data());
      }
    }
    out.strings(a.endedRuns);
  }

  private static StreamAnnouncement read(Wire in) {
    String envId = in.string();
    int n = in.intValue();
    List<Item> items = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String runId = in.string();
      String key = in.string();
      long lastSeq = in.longValue();
      long atMs = in.longValue();
      boolean closed = in.bool();
      int carried = in.intValue();
      List<StreamChunk> chunks = new ArrayList<>(carried);
      for (int c = 0; c < carried; c++) {
        chunks.add(new StreamChunk(in.longValue(), in.longValue(), in.string()));
      }
      items.add(new Item(runId, key, lastSeq, atMs, closed, chunks));
    }
    return new StreamAnnouncement(envId, items, in.strings());
  }
}
