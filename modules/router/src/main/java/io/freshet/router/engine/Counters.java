package io.freshet.router.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counters of one tag each, registered once and found again by name and tag value: the router's
 * meters are many counters of one low-cardinality tag (never a run, feed or environment id).
 */
public final class Counters {

  private final MeterRegistry registry;
  private final Map<String, Counter> byName = new ConcurrentHashMap<>();
  private volatile boolean readSideIsPrimary;

  public Counters(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The counter {@code name{tag=value}}, registered with {@code help} the first time. */
  public Counter get(String name, String help, String tag, String value) {
    return byName.computeIfAbsent(name + '|' + tag + '|' + value,
        k -> Counter.builder(name).description(help).tag(tag, value).register(registry));
  }

  /**
   * {@code freshet_replica_reads_total{replica,kind}}: keys read from each read replica (named 1, 2,
   * … in {@code db.replica.uris} order), for runs or streams.
   */
  public void replicaReads(int replica, String kind, int keys) {
    if (readSideIsPrimary) {
      return; // primary-reads mode, or no replica: the read side is the primary, and no replica read anything
    }
    String name = String.valueOf(replica + 1);
    byName.computeIfAbsent("freshet.replica.reads|" + name + '|' + kind, k -> Counter.builder("freshet.replica.reads")
        .description("Keys read from each read replica, by kind (runs, streams)").tag("replica", name).tag("kind", kind)
        .register(registry)).increment(keys);
  }

  /** The read side is the primary (primary-reads mode, or no replica): reads are not counted as replica reads. */
  public void readSideIsPrimary() {
    readSideIsPrimary = true;
  }
}
