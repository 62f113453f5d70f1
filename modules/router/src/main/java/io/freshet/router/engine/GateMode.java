package io.freshet.router.engine;

import java.util.Locale;

/**
 * How a router times its hydrates. Only {@link #GATED} is Freshet; the others are the baselines a
 * user would otherwise pick, kept so the benchmark can measure them on the same workload.
 */
public enum GateMode {
  /** Wait until the commit is older than the lag estimate, check rows against the watermark, retry stale ones. */
  GATED,
  /** Hydrate as soon as the record arrives (the behaviour before the fix: one change behind). */
  UNGATED,
  /** Always wait the maximum delay before hydrating. */
  FIXED_DELAY,
  /** Hydrate from the primary: fresh by construction, at the primary's cost. */
  PRIMARY_READS;

  public static GateMode parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("gate.mode must be gated, ungated, fixed-delay or primary-reads, not '" + value + "'");
    }
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
