package io.freshet.bench;

import java.util.Arrays;

/**
 * Latency samples in milliseconds, kept exactly (a growable long array sorted on demand): the
 * benchmark records at most a few hundred thousand samples per series, so an approximate histogram
 * would only lose precision. Percentiles use the nearest-rank method.
 */
public final class LatencyRecorder {

  private long[] samples = new long[256];
  private int size;
  private boolean sorted = true;

  public synchronized void record(long ms) {
    if (size == samples.length) {
      samples = Arrays.copyOf(samples, size * 2);
    }
    samples[size++] = ms;
    sorted = false;
  }

  public synchronized void addAll(LatencyRecorder other) {
    long[] theirs = other.snapshot();
    for (long v : theirs) {
      record(v);
    }
  }

  public synchronized int count() {
    return size;
  }

  /** Nearest-rank percentile, {@code p} in (0, 100]; -1 when empty. */
  public synchronized long percentile(double p) {
    if (size == 0) {
      return -1;
    }
    sort();
    int rank = (int) Math.ceil(p / 100.0 * size);
    return samples[Math.min(size, Math.max(1, rank)) - 1];
  }

  public synchronized long max() {
    return size == 0 ? -1 : percentile(100);
  }

  /** The samples in ascending order (a copy). */
  public synchronized long[] snapshot() {
    sort();
    return Arrays.copyOf(samples, size);
  }

  private void sort() {
    if (!sorted) {
      Arrays.sort(samples, 0, size);
      sorted = true;
    }
  }
}
