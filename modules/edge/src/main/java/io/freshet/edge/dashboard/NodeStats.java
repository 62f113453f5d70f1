package io.freshet.edge.dashboard;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * One node's figures for the dashboard, read from the same meters {@code /metrics} exposes and
 * sampled once a second: the replica-lag estimate over the last minutes (the line the gate waits
 * on), delivery lag p50/p99 (the meter's own decaying percentiles), held feeds by kind, and rates
 * of hydrate queries and of each stale outcome over the last minute.
 */
public final class NodeStats {

  /** Lag points kept: ten minutes at one a second. */
  static final int HISTORY = 600;
  /** Rates are over this window. */
  static final long RATE_WINDOW_MS = 60_000;

  private record Sample(long atMs, double hydrates, Map<String, Double> stale) {}

  private final MeterRegistry registry;
  private final ArrayDeque<long[]> lag = new ArrayDeque<>();
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  public NodeStats(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Takes one sample; call about once a second. */
  public void sample(long nowMs) {
    Double estimate = gauge("freshet.replica.lag.estimate");
    if (estimate != null) {
      lag.addLast(new long[] {nowMs, Math.round(estimate)});
      while (lag.size() > HISTORY) {
        lag.removeFirst();
      }
    }
    samples.addLast(new Sample(nowMs, counterSum("freshet.hydrate.queries"), counterTotalsBy("freshet.stale.hydrates", "outcome")));
    while (samples.size() > 2 && nowMs - samples.getFirst().atMs() > RATE_WINDOW_MS) {
      samples.removeFirst();
    }
  }

  /**
   * The node's figures: {@code lagMs}, {@code lagHistory} ([[epochMs, ms], ...] since
   * {@code sinceMs}), {@code deliveryLag} {p50, p99, count}, {@code held} {long-poll, sse},
   * {@code feeds}, {@code hydratesPerSec}, {@code stale} {outcome: {total, perSec}}.
   */
  public JsonObject snapshot(long sinceMs) {
    JsonArray history = new JsonArray();
    for (long[] point : lag) {
      if (point[0] > sinceMs) {
        history.add(new JsonArray().add(point[0]).add(point[1]));
      }
    }
    JsonObject out = new JsonObject().put("lagHistory", history);
    if (!lag.isEmpty()) {
      out.put("lagMs", lag.getLast()[1]);
    }
    out.put("deliveryLag", deliveryLag());
    JsonObject held = new JsonObject();
    gaugeTotalsBy("freshet.held.feeds", "kind").forEach((kind, n) -> held.put(kind, Math.round(n)));
    out.put("held", held);
    Double feeds = gaugeSum("freshet.feeds");
    out.put("feeds", feeds == null ? 0 : Math.round(feeds));
    Sample first = samples.peekFirst();
    Sample last = samples.peekLast();
    double seconds = first == null || last == first ? 0 : (last.atMs() - first.atMs()) / 1000.0;
    out.put("hydratesPerSec", seconds == 0 ? 0.0 : round1((last.hydrates() - first.hydrates()) / seconds));
    JsonObject stale = new JsonObject();
    if (last != null) {
      for (Map.Entry<String, Double> e : last.stale().entrySet()) {
        double before = first.stale().getOrDefault(e.getKey(), 0.0);
        stale.put(e.getKey(), new JsonObject().put("total", Math.round(e.getValue()))
            .put("perSec", seconds == 0 ? 0.0 : round1((e.getValue() - before) / seconds)));
      }
    }
    out.put("stale", stale);
    return out;
  }

  private JsonObject deliveryLag() {
    JsonObject out = new JsonObject().put("count", 0L);
    for (DistributionSummary summary : registry.find("freshet.delivery.lag").summaries()) {
      var snapshot = summary.takeSnapshot();
      out.put("count", out.getLong("count") + snapshot.count());
      for (ValueAtPercentile v : snapshot.percentileValues()) {
        String key = v.percentile() == 0.5 ? "p50" : v.percentile() == 0.99 ? "p99" : null;
        if (key != null && !Double.isNaN(v.value())) {
          out.put(key, Math.max(out.getDouble(key, 0.0), round1(v.value())));
        }
      }
    }
    return out;
  }

  private Double gauge(String name) {
    Gauge g = registry.find(name).gauge();
    return g == null || Double.isNaN(g.value()) ? null : g.value();
  }

  private Double gaugeSum(String name) {
    double sum = 0;
    boolean any = false;
    for (Gauge g : registry.find(name).gauges()) {
      if (!Double.isNaN(g.value())) {
        sum += g.value();
        any = true;
      }
    }
    return any ? sum : null;
  }

  private double counterSum(String name) {
    return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  private Map<String, Double> counterTotalsBy(String counterName, String tag) {
    Map<String, Double> out = new TreeMap<>();
    for (Counter c : registry.find(counterName).counters()) {
      out.merge(String.valueOf(c.getId().getTag(tag)), c.count(), Double::sum);
    }
    return out;
  }

  private Map<String, Double> gaugeTotalsBy(String gaugeName, String tag) {
    Map<String, Double> out = new TreeMap<>();
    for (Gauge g : registry.find(gaugeName).gauges()) {
      if (!Double.isNaN(g.value())) {
        out.merge(String.valueOf(g.getId().getTag(tag)), g.value(), Double::sum);
      }
    }
    return out;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
