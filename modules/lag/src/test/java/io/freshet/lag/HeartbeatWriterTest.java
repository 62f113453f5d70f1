package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.lag.Heartbeat;
import io.freshet.core.time.FakeScheduler;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeartbeatWriterTest {

  private final FakeScheduler time = new FakeScheduler();
  private final List<Heartbeat> announced = new ArrayList<>();
  private boolean writer = true;
  private long seq;

  private final HeartbeatWriter hb = new HeartbeatWriter(() -> Future.succeededFuture(new Heartbeat(++seq, time.nowMs())),
      () -> writer, announced::add, time, 30_000);

  @Test
  void writesOnlyWhileSomeNodeDemandsAndOnlyOnTheWriter() {
    hb.tick();
    assertThat(announced).as("no feed anywhere: nothing written").isEmpty();
    hb.demand();
    hb.tick();
    hb.tick();
    assertThat(announced).extracting(Heartbeat::seq).containsExactly(1L, 2L);
    writer = false;
    hb.tick();
    assertThat(announced).as("another member writes").hasSize(2);
    writer = true;
    time.advance(30_001);
    hb.tick();
    assertThat(announced).as("no demand for idleAfterMs: stops").hasSize(2);
  }
}
