package io.freshet.core.lag;

import io.freshet.core.bus.BusCodec;

/**
 * One write of the replica-lag heartbeat on the primary, announced to every node of the cluster
 * so that each can time its own replica's apply of it (clustered, published).
 *
 * @param seq the write's sequence number (the heartbeat row's counter)
 * @param atMs the primary's clock at the write, epoch ms: the same clock as a change's watermark
 */
public record Heartbeat(long seq, long atMs) {

  /** Crosses nodes: two longs. */
  public static final BusCodec<Heartbeat> CODEC = BusCodec.wire(Heartbeat.class,
      (wire, beat) -> wire.longValue(beat.seq()).longValue(beat.atMs()),
      wire -> {
        long seq = wire.longValue();
        long atMs = wire.longValue();
        return new Heartbeat(seq, atMs);
      });
}
