package io.freshet.bench;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;

/**
 * Reads the node's own meters. Figures are differences of two readings taken around a phase.
 *
 * <p>Statements per database come from Vert.x's pool metrics, tagged with the pool's name
 * ({@code primary}, {@code replica}): {@code vertx.pool.usage} is a timer with one sample per
 * connection lease, which with the SQL pool is one statement (pipelined statements each lease).
 */
final class NodeMeters {

  /** One reading. */
  record Reading(double hydrates, double primaryLeases, double replicaLeases, double records, double staleRecovered,
      double staleGaveUp, double lagEstimateMs, double fallbackReads) {
    /** Counters as differences; the lag estimate (a gauge) as read at the end. */
    Reading minus(Reading before) {
      return new Reading(hydrates - before.hydrates, primaryLeases - before.primaryLeases, replicaLeases - before.replicaLeases,
          records - before.records, staleRecovered - before.staleRecovered, staleGaveUp - before.staleGaveUp, lagEstimateMs,
          fallbackReads - before.fallbackReads);
    }
  }

  private final MeterRegistry registry;

  NodeMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  Reading read() {
    return new Reading(sum("freshet.hydrate.queries", null, null), leases("primary"), leases("replica"),
        sum("freshet.change.records", "kind", "received"), sum("freshet.stale.hydrates", "outcome", "recovered"),
        sum("freshet.stale.hydrates", "outcome", "gave_up"), gauge("freshet.replica.lag.estimate"),
        sum("freshet.primary.fallback.reads", null, null));
  }

  private double gauge(String name) {
    double v = Double.NaN;
    for (Meter meter : registry.getMeters()) {
      if (meter.getId().getName().equals(name) && meter instanceof io.micrometer.core.instrument.Gauge g) {
        v = Double.isNaN(v) ? g.value() : Math.max(v, g.value());
      }
    }
    return v;
  }

  double leases(String poolName) {
    double n = 0;
    for (Meter meter : registry.getMeters()) {
      if (!meter.getId().getName().startsWith("vertx.pool")) {
        continue;
      }
      if (!poolName.equals(tag(meter, "pool_name")) && !poolName.equals(tag(meter, "pool.name"))) {
        continue;
      }
      if (meter instanceof Timer t && meter.getId().getName().equals("vertx.pool.usage")) {
        n += t.count();
      }
    }
    return n;
  }

  private static String tag(Meter meter, String key) {
    for (Tag t : meter.getId().getTags()) {
      if (t.getKey().equals(key)) {
        return t.getValue();
      }
    }
    return null;
  }

  private double sum(String name, String tagKey, String tagValue) {
    double n = 0;
    for (Meter meter : registry.getMeters()) {
      if (!meter.getId().getName().equals(name)) {
        continue;
      }
      if (tagKey != null && !tagValue.equals(tag(meter, tagKey))) {
        continue;
      }
      if (meter instanceof Counter c) {
        n += c.count();
      } else if (meter instanceof FunctionCounter fc) {
        n += fc.count();
      }
    }
    return n;
  }
}
