package io.freshet.router.engine;

/**
 * What {@link GatedReads} counts. Each kind of read keeps the meter names operators already
 * graph (run hydrates, stream reads), so each has its own implementation of this.
 */
public interface EngineMetrics {

  /**
   * Cumulative buckets of the delivery lag (Prometheus {@code _bucket} series): 10 ms wide to 1 s,
   * then wider. Unlike the published percentiles (a rolling window), bucket counts can be
   * differenced over any period and summed over nodes, so a benchmark phase or a cluster gets
   * exact percentiles to within a bucket.
   */
  double[] DELIVERY_LAG_BUCKETS_MS = Buckets.deliveryLag();

  /** The bucket bounds, built once. */
  final class Buckets {
    private Buckets() {}

    static double[] deliveryLag() {
      java.util.List<Double> b = new java.util.ArrayList<>();
      for (int ms = 10; ms <= 1000; ms += 10) {
        b.add((double) ms);
      }
      for (int ms = 1100; ms <= 3000; ms += 100) {
        b.add((double) ms);
      }
      for (int ms : new int[] {4000, 5000, 7500, 10_000, 20_000, 30_000, 60_000}) {
        b.add((double) ms);
      }
      return b.stream().mapToDouble(Double::doubleValue).toArray();
    }
  }

  /** Why a read ran: the gate's first read, a retry after a stale one, a watched key whose replica moved. */
  enum Reason { WAKE, RETRY, WATCH }

  /** How a stale key ended, or a watched one went on. */
  enum Outcome {
    /** A replica retry was fresh. */
    RECOVERED,
    /** Read from the primary (the fallback). */
    PRIMARY,
    /** Delivered as the replica had it, then watched (no fallback left). */
    GAVE_UP,
    /** A watched key read fresh once the replica moved. */
    STALL_RECOVERED,
    /** A watched key read again, still stale. */
    STILL_STALE
  }

  /** How a key's commits reached their followers. */
  enum Via {
    /** The commit carried its value (the writer had it in hand): delivered at once, no gate, no read. */
    RECORD,
    /** A read through the gate (the replica, or the primary fallback) found it. */
    READ,
    /** No read found it in time: what the replica had was delivered, and the key is watched. */
    LIVENESS
  }

  /** {@code keys} keys settled one way. */
  void settled(Via via, int keys);

  /** A read of {@code keys} keys started, on the primary or on replica {@code replica} (numbered from 0). */
  void read(ReadSource.Where where, int replica, Reason reason, int keys);

  /** How long a first read started after its commit. */
  void gateDelay(long ms);

  void outcome(Outcome outcome, int keys);

  /** Primary reads the fallback budget refused. */
  void fallbackRefused(int keys);

  /** A watched key dropped at the bound (the backstop still corrects it). */
  void watchedDropped();
}
