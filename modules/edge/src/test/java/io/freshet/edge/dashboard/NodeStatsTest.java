package io.freshet.edge.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NodeStatsTest {

  @Test
  void readsTheSameMetersAsMetricsAndTurnsCountersIntoRatesOverTheLastMinute() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicLong lag = new AtomicLong(150);
    Gauge.builder("freshet.replica.lag.estimate", lag, AtomicLong::get).register(registry);
    Gauge.builder("freshet.held.feeds", () -> 3).tag("kind", "long-poll").tag("instance", "router-0").register(registry);
    Gauge.builder("freshet.held.feeds", () -> 2).tag("kind", "long-poll").tag("instance", "router-1").register(registry);
    Gauge.builder("freshet.held.feeds", () -> 7).tag("kind", "sse").tag("instance", "web-0").register(registry);
    Counter hydrates = Counter.builder("freshet.hydrate.queries").tag("reason", "wake").register(registry);
    Counter recovered = Counter.builder("freshet.stale.hydrates").tag("outcome", "recovered").register(registry);
    Counter.builder("freshet.stale.hydrates").tag("outcome", "gave_up").register(registry);
    DistributionSummary delivery = DistributionSummary.builder("freshet.delivery.lag").publishPercentiles(0.5, 0.99).register(registry);

    NodeStats stats = new NodeStats(registry);
    stats.sample(1_000);
    hydrates.increment(20);
    recovered.increment(4);
    for (int i = 1; i <= 100; i++) {
      delivery.record(i);
    }
    lag.set(300);
    stats.sample(11_000);

    JsonObject s = stats.snapshot(0);
    assertThat(s.getLong("lagMs")).isEqualTo(300);
    assertThat(s.getJsonArray("lagHistory").encode()).isEqualTo("[[1000,150],[11000,300]]");
    assertThat(stats.snapshot(1_000).getJsonArray("lagHistory").encode()).as("only what is newer than since").isEqualTo("[[11000,300]]");
    assertThat(s.getJsonObject("held").encode()).isEqualTo("{\"long-poll\":5,\"sse\":7}");
    assertThat(s.getDouble("hydratesPerSec")).isEqualTo(2.0);
    assertThat(s.getJsonObject("stale").encode())
        .isEqualTo("{\"gave_up\":{\"total\":0,\"perSec\":0.0},\"recovered\":{\"total\":4,\"perSec\":0.4}}");
    JsonObject d = s.getJsonObject("deliveryLag");
    assertThat(d.getLong("count")).isEqualTo(100);
    assertThat(d.getDouble("p50")).isBetween(45.0, 55.0);
    assertThat(d.getDouble("p99")).isBetween(95.0, 101.0);
  }

  @Test
  void keepsTenMinutesOfLagAndRatesOverOneMinute() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Gauge.builder("freshet.replica.lag.estimate", () -> 42).register(registry);
    Counter hydrates = Counter.builder("freshet.hydrate.queries").tag("reason", "wake").register(registry);
    NodeStats stats = new NodeStats(registry);
    for (int s = 0; s < 700; s++) {
      hydrates.increment(s < 600 ? 100 : 1);
      stats.sample(s * 1000L);
    }
    JsonObject snapshot = stats.snapshot(0);
    assertThat(snapshot.getJsonArray("lagHistory")).hasSize(NodeStats.HISTORY);
    assertThat(snapshot.getDouble("hydratesPerSec")).as("the last minute only").isEqualTo(1.0);
  }
}
