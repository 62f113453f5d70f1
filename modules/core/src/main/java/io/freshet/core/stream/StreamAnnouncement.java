package io.freshet.core.stream;

import io.freshet.core.bus.BusCodec;
import io.freshet.core.bus.Wire;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * What the writer side publishes on the clustered bus after each commit of an environment's
 * streams: per stream, the last seq now committed and the primary's clock at that commit (the
 * watermark readers gate replica reads on), whether the stream is closed; and the runs that ended
 * (every stream of theirs is complete, even one never written to). Chunk content is never on the
 * bus: readers read it from their replica, as run rows are.
 */
public record StreamAnnouncement(String envId, List<Item> items, List<String> endedRuns) {

  /** One stream's state after the commit; {@code lastSeq} is -1 for a stream without chunks. */
  public record Item(String runId, String key, long lastSeq, long atMs, boolean closed) {}

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
    }
    out.strings(a.endedRuns);
  }

  private static StreamAnnouncement read(Wire in) {
    String envId = in.string();
    int n = in.intValue();
    List<Item> items = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      items.add(new Item(in.string(), in.string(), in.longValue(), in.longValue(), in.bool()));
    }
    return new StreamAnnouncement(envId, items, in.strings());
  }
}
