package io.freshet.router.feeds;

import io.freshet.router.engine.Counters;
import io.freshet.router.engine.EngineMetrics;
import io.freshet.router.engine.ReadSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/** The router's meters. Tags are low-cardinality only: never a run, feed or environment id. */
public final class RouterMetrics {

  private final Counters counters;
  private final DistributionSummary deliveryLag;
  private final DistributionSummary gateDelay;

  public RouterMetrics(MeterRegistry registry) {
    this.counters = new Counters(registry);
    this.deliveryLag = DistributionSummary.builder("freshet.delivery.lag").baseUnit("milliseconds")
        .description("From the commit of the oldest change a delivered row carries to its entry in the feed logs, per run and delivery.")
        .publishPercentiles(0.5, 0.95, 0.99).serviceLevelObjectives(EngineMetrics.DELIVERY_LAG_BUCKETS_MS).register(registry);
    this.gateDelay = DistributionSummary.builder("freshet.gate.delay").baseUnit("milliseconds")
        .description("How long first reads of a change started after its commit (from the record's watermark): the gate's wait plus the router's own delay.")
        .publishPercentiles(0.5, 0.99).register(registry);
    // Registered up front so dashboards and alerts see zeros rather than missing series.
    for (String outcome : new String[] {"recovered", "primary", "gave_up", "stall_recovered"}) {
      staleHydrates(outcome, 0);
    }
    for (String reason : new String[] {"wake", "retry", "watch", "primary", "feed-read", "feed-resolve", "catch-up"}) {
      counter("freshet.hydrate.queries", HYDRATES, "reason", reason);
    }
    record(0);
    for (String via : new String[] {"record", "read", "liveness"}) {
      settled(via, 0);
    }
    fallbackReads(0);
    fallbackRefused(0);
    counter(STALLED_DROPPED, STALLED_DROPPED_HELP, "bound", "watched");
    for (String bound : new String[] {"env", "token"}) {
      counter("freshet.feeds.refused", "New feed logs refused at a bound: realtime.maxFeedsPerEnv (env) or realtime.maxFeedsPerToken (token).",
          "bound", bound);
    }
  }

  private static final String HYDRATES = "Read-side queries the router ran, by reason.";

  private static final String STALLED_DROPPED = "freshet.stalled.runs.dropped";
  private static final String STALLED_DROPPED_HELP = "Watched runs dropped because an environment reached gate.maxWatchedRunsPerEnv; the backstop still corrects them.";

  public MeterRegistry registry() {
    return counters.registry();
  }

  /** The gated reads of run rows, counted under the run feed's meters. */
  EngineMetrics engine() {
    return new EngineMetrics() {
      @Override
      public void read(ReadSource.Where where, int replica, Reason reason, int keys) {
        if (where == ReadSource.Where.PRIMARY) {
          hydrateQuery("primary");
          fallbackReads(keys);
        } else {
          hydrateQuery(reason.name().toLowerCase(java.util.Locale.ROOT));
          counters.replicaReads(replica, "runs", keys);
        }
      }

      @Override
      public void settled(Via via, int keys) {
        RouterMetrics.this.settled(via.name().toLowerCase(java.util.Locale.ROOT), keys);
      }

      @Override
      public void gateDelay(long ms) {
        RouterMetrics.this.gateDelay(ms);
      }

      @Override
      public void outcome(Outcome outcome, int keys) {
        if (outcome != Outcome.STILL_STALE) {
          staleHydrates(outcome.name().toLowerCase(java.util.Locale.ROOT), keys);
        }
      }

      @Override
      public void fallbackRefused(int keys) {
        RouterMetrics.this.fallbackRefused(keys);
      }

      @Override
      public void watchedDropped() {
        stalledRunDropped();
      }
    };
  }

  void settled(String via, int runs) {
    counter("freshet.changes.settled", "Run changes settled, by how: record (the change record carried the committed row: served at once,"
        + " no gate, no replica read), read (a gated read found it), liveness (no read found it in time; delivered as the replica had it).",
        "via", via).increment(runs);
  }

  void staleHydrates(String outcome, int runs) {
    counter("freshet.stale.hydrates", "Changes the tripwire withheld, by outcome: recovered on a replica retry, read from the primary,"
        + " gave_up (delivered as the replica had it, then watched), stall_recovered (a watched run read fresh once the replica moved).",
        "outcome", outcome).increment(runs);
  }

  /** Runs read from the primary by the fallback (change reads and feed reads). */
  void fallbackReads(int runs) {
    counter("freshet.primary.fallback.reads", "Runs (or streams) read from the primary because the replica could not serve them in time.", "kind", "runs")
        .increment(runs);
  }

  /** Fallback reads the node's budget refused. */
  void fallbackRefused(int runs) {
    counter("freshet.primary.fallback.refused", "Fallback reads refused because gate.primaryFallbackPerSec was spent.", "kind", "runs")
        .increment(runs);
  }

  void stalledRunDropped() {
    counter(STALLED_DROPPED, STALLED_DROPPED_HELP, "bound", "watched").increment();
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

  /** A new feed log refused at a bound ({@code env} or {@code token}). */
  void feedRefused(String bound) {
    counter("freshet.feeds.refused", "New feed logs refused at a bound: realtime.maxFeedsPerEnv (env) or realtime.maxFeedsPerToken (token).",
        "bound", bound).increment();
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

  private Counter counter(String name, String help, String tag, String value) {
    return counters.get(name, help, tag, value);
  }

  /** The read side is the primary (primary-reads mode, or no replica): nothing counts as a replica read. */
  public RouterMetrics readSideIsPrimary() {
    counters.readSideIsPrimary();
    return this;
  }

  /** Feed logs a stopping node handed to other nodes. */
  public void handedOver(int logs) {
    counter("freshet.feeds.handed.over", "Feed logs this node handed to other nodes when it stopped gracefully", "to", "other-nodes")
        .increment(logs);
  }
}
