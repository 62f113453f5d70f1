package io.freshet.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The router's meters. Tags are low-cardinality only: never a run, feed or environment id. */
public final class RouterMetrics {

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final DistributionSummary deliveryLag;
  private final DistributionSummary gateDelay;

  public RouterMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.deliveryLag = DistributionSummary.builder("freshet.delivery.lag").baseUnit("milliseconds")
        .description("Now minus the newest emitted updatedAt, per live emission: commit to server-side delivery.")
        .publishPercentiles(0.5, 0.95, 0.99).register(registry);
    this.gateDelay = DistributionSummary.builder("freshet.gate.delay").baseUnit("milliseconds")
        .description("How long wake hydrates waited after their record arrived.")
        .publishPercentiles(0.5, 0.99).register(registry);
    // Registered up front so dashboards and alerts see zeros rather than missing series.
    for (String outcome : new String[] {"recovered", "gave_up"}) {
      staleHydrates(outcome, 0);
    }
    for (String reason : new String[] {"wake", "retry", "echo", "feed-read", "feed-resolve", "catch-up"}) {
      counter("freshet.hydrate.queries", HYDRATES, "reason", reason);
    }
    record(0);
  }

  private static final String HYDRATES = "Read-side queries the router ran, by reason.";

  MeterRegistry registry() {
    return registry;
  }

  void staleHydrates(String outcome, int runs) {
    counter("freshet.stale.hydrates", "Stale rows by outcome: recovered on retry, or gave_up and delivered anyway.", "outcome", outcome).increment(runs);
  }

  void hydrateQuery(String reason) {
    counter("freshet.hydrate.queries", HYDRATES, "reason", reason).increment();
  }

  void record() {
    record(1);
  }

  private void record(int n) {
    counter("freshet.change.records", "Change records received by this node's routers.", "kind", "received").increment(n);
  }

  void livePoll(String outcome) {
    counter("freshet.live.polls", "Live polls ended, by outcome.", "outcome", outcome).increment();
  }

  void deliveryLag(long ms) {
    deliveryLag.record(Math.max(0, ms));
  }

  void gateDelay(long ms) {
    gateDelay.record(Math.max(0, ms));
  }

  private Counter counter(String name, String description, String tag, String value) {
    return counters.computeIfAbsent(name + "|" + value,
        k -> Counter.builder(name).description(description).tag(tag, value).register(registry));
  }
}
