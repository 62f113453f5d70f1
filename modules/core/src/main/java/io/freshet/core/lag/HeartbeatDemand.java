package io.freshet.core.lag;

import io.freshet.core.bus.BusCodec;

/**
 * A node with active feeds asks the cluster's heartbeat writer to keep writing (clustered,
 * published about once a second while feeds are active).
 */
public record HeartbeatDemand() {

  /** Crosses nodes: nothing but its type. */
  public static final BusCodec<HeartbeatDemand> CODEC = BusCodec.wire(HeartbeatDemand.class, (wire, demand) -> {}, wire -> new HeartbeatDemand());
}
