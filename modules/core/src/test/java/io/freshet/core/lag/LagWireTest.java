package io.freshet.core.lag;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.bus.BusCodec;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** The lag messages that cross the cluster survive the trip between nodes, field for field. */
class LagWireTest {

  private static <T> T roundTrip(BusCodec<T> codec, T message) {
    Buffer wire = Buffer.buffer("header");
    codec.encodeToWire(wire, message);
    wire.appendString("trailer");
    return codec.decodeFromWire("header".length(), wire);
  }

  @Test
  void aHeartbeatCrossesNodesWithItsSeqAndWriteTime() {
    Heartbeat beat = new Heartbeat(42, 1_767_225_600_123L);

    assertThat(roundTrip(Heartbeat.CODEC, beat)).isEqualTo(beat);
  }

  @Test
  void aDemandCrossesNodes() {
    assertThat(roundTrip(HeartbeatDemand.CODEC, new HeartbeatDemand())).isEqualTo(new HeartbeatDemand());
  }
}
