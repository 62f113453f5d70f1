package io.freshet.router.streams;

import io.freshet.router.engine.Counters;
import io.freshet.router.engine.EngineMetrics;
import io.freshet.router.engine.ReadSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/** The stream router's meters; tags are low-cardinality only (never a run or stream). */
public final class StreamMetrics {

  private final Counters counters;
  private final DistributionSummary deliveryLag;
  private final Counter delivered;

  public StreamMetrics(MeterRegistry registry) {
    this.counters = new Counters(registry);
    this.deliveryLag = DistributionSummary.builder("freshet.stream.delivery.lag").baseUnit("milliseconds")
        .description("From a chunk's append on the primary to its push to this node's readers, once per chunk and node.")
        .publishPercentiles(0.5, 0.99).serviceLevelObjectives(EngineMetrics.DELIVERY_LAG_BUCKETS_MS).register(registry);
    this.delivered = Counter.builder("freshet.stream.chunks.delivered")
        .description("Chunks read and pushed to this node's readers (once per chunk, whatever the number of readers).").register(registry);
    for (String source : new String[] {"replica", "primary"}) {
      read(source, 0);
    }
    for (String outcome : new String[] {"recovered", "primary", "gave_up", "watched"}) {
      counter("freshet.stream.stale.reads", STALE, "outcome", outcome);
    }
    fallbackRefused(0);
    counter("freshet.primary.fallback.reads", FALLBACK_READS, "kind", "streams");
    for (String via : new String[] {"record", "read", "liveness"}) {
      settled(via, 0);
    }
  }

  private static final String FALLBACK_READS = "Runs (or streams) read from the primary because the replica could not serve them in time.";

  private static final String STALE = "Stream reads that stopped short of an announced commit (the tripwire), by how they were settled.";

  public MeterRegistry registry() {
    return counters.registry();
  }

  /** The gated reads of stream chunks, counted under the streams' meters. */
  EngineMetrics engine() {
    return new EngineMetrics() {
      @Override
      public void read(ReadSource.Where where, int replica, Reason reason, int keys) {
        StreamMetrics.this.read(where == ReadSource.Where.PRIMARY ? "primary" : "replica", keys);
        if (where == ReadSource.Where.PRIMARY) {
          counter("freshet.primary.fallback.reads", FALLBACK_READS, "kind", "streams").increment(keys);
        } else {
          counters.replicaReads(replica, "streams", keys);
        }
      }

      @Override
      public void settled(Via via, int keys) {
        StreamMetrics.this.settled(via.name().toLowerCase(java.util.Locale.ROOT), keys);
      }

      @Override
      public void gateDelay(long ms) {}

      @Override
      public void outcome(Outcome outcome, int keys) {
        String name = switch (outcome) {
          case RECOVERED, STALL_RECOVERED -> "recovered";
          case PRIMARY -> "primary";
          case GAVE_UP -> "gave_up";
          case STILL_STALE -> "watched";
        };
        for (int i = 0; i < keys; i++) {
          stale(name);
        }
      }

      @Override
      public void fallbackRefused(int keys) {
        StreamMetrics.this.fallbackRefused(keys);
      }

      @Override
      public void watchedDropped() {}
    };
  }

  void settled(String via, int streams) {
    counter("freshet.stream.commits.settled", "Stream commits settled, by how: record (the announcement carried the committed chunks:"
        + " pushed at once, no replica read), read (a gated read found them), liveness (a read gave up and the stream is watched).",
        "via", via).increment(streams);
  }

  void delivered(long lagMs) {
    delivered.increment();
    deliveryLag.record(Math.max(0, lagMs));
  }

  void read(String source, int streams) {
    counter("freshet.stream.reads", "Streams read per round, by where (one query reads many).", "source", source).increment(streams);
  }

  void stale(String outcome) {
    counter("freshet.stream.stale.reads", STALE, "outcome", outcome).increment();
  }

  private void fallbackRefused(int n) {
    counter("freshet.primary.fallback.refused", "Fallback reads refused because gate.primaryFallbackPerSec was spent.", "kind", "streams")
        .increment(n);
  }

  private Counter counter(String name, String help, String tag, String value) {
    return counters.get(name, help, tag, value);
  }

  /** The read side is the primary (primary-reads mode, or no replica): nothing counts as a replica read. */
  public StreamMetrics readSideIsPrimary() {
    counters.readSideIsPrimary();
    return this;
  }
}
