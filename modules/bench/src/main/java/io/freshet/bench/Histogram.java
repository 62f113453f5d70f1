package io.freshet.bench;

import io.vertx.core.json.JsonObject;

/**
 * Latencies in whole milliseconds, counted per millisecond up to two minutes: fixed memory however
 * many samples (a fan-out phase records millions), exact percentiles at 1 ms, and mergeable across
 * the load client processes. Sent between processes as a sparse {@code {"ms": count}} object.
 */
final class Histogram {

  static final int MAX_MS = 120_000;

  private final long[] counts = new long[MAX_MS + 2];
  private long total;

  synchronized void record(long ms) {
    counts[(int) Math.max(0, Math.min(MAX_MS + 1, ms))]++;
    total++;
  }

  synchronized void merge(Histogram other) {
    long[] theirs = other.copy();
    for (int i = 0; i < counts.length; i++) {
      counts[i] += theirs[i];
    }
    total += other.count();
  }

  synchronized long count() {
    return total;
  }

  /** Nearest-rank percentile, {@code p} in (0, 100]; -1 when empty; values past two minutes read as MAX_MS + 1. */
  synchronized long percentile(double p) {
    if (total == 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(p / 100.0 * total));
    long seen = 0;
    for (int ms = 0; ms < counts.length; ms++) {
      seen += counts[ms];
      if (seen >= rank) {
        return ms;
      }
    }
    return MAX_MS + 1;
  }

  /** How many samples were at most {@code ms}. */
  synchronized long countAtMost(long ms) {
    long n = 0;
    for (int i = 0; i <= Math.min(ms, MAX_MS + 1); i++) {
      n += counts[i];
    }
    return n;
  }

  private synchronized long[] copy() {
    return counts.clone();
  }

  synchronized JsonObject toJson() {
    JsonObject json = new JsonObject();
    for (int ms = 0; ms < counts.length; ms++) {
      if (counts[ms] > 0) {
        json.put(Integer.toString(ms), counts[ms]);
      }
    }
    return json;
  }

  static Histogram fromJson(JsonObject json) {
    Histogram h = new Histogram();
    for (String key : json.fieldNames()) {
      long n = json.getLong(key);
      h.counts[Integer.parseInt(key)] += n;
      h.total += n;
    }
    return h;
  }
}
