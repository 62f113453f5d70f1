package io.freshet.bench;

import java.util.Arrays;
import java.util.List;

/** What a benchmark run covers: the sweep and the scale phase's sizes. */
record BenchSettings(String name, List<String> modes, List<Long> delaysMs, List<Long> intervalsMs, int runs,
    long writeWindowMs, long tailMs, boolean scale, int routingFeeds, long routingPublishMs, int routingOfferedPerSecond,
    int sseTarget, int sseRuns, int sseChangesPerSecond, long sseLoadMs, long scaleDelayMs) {

  static final List<String> MODES = List.of("gated", "ungated", "fixed-delay", "primary-reads");

  /** CI smoke: one point per mode, short scale phase; a few minutes. */
  static BenchSettings quick() {
    return new BenchSettings("quick", MODES, List.of(150L), List.of(100L), 10, 2000, 1500,
        true, 1000, 2000, 40_000, 1000, 100, 200, 4000, 150);
  }

  /** The whole sweep and the scale targets. */
  static BenchSettings full() {
    return new BenchSettings("full", MODES, List.of(0L, 50L, 150L, 500L), List.of(20L, 100L, 1000L), 10, 3000, 1500,
        true, 1000, 5000, 40_000, 10_000, 1000, 1000, 10_000, 150);
  }

  /** Writes per run at an interval: enough to fill the window, at least 5 so the tail is a small part. */
  int writesPerRun(long intervalMs) {
    return (int) Math.max(5, writeWindowMs / intervalMs);
  }

  BenchSettings with(String key, String value) {
    return switch (key) {
      case "modes" -> new BenchSettings(name, List.of(value.split(",")), delaysMs, intervalsMs, runs, writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "delays" -> new BenchSettings(name, modes, longs(value), intervalsMs, runs, writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "intervals" -> new BenchSettings(name, modes, delaysMs, longs(value), runs, writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "runs" -> new BenchSettings(name, modes, delaysMs, intervalsMs, Integer.parseInt(value), writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "sse" -> new BenchSettings(name, modes, delaysMs, intervalsMs, runs, writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, Integer.parseInt(value), Math.max(10, Integer.parseInt(value) / 10),
          sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "scale" -> new BenchSettings(name, modes, delaysMs, intervalsMs, runs, writeWindowMs, tailMs, Boolean.parseBoolean(value),
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs);
      case "sweep" -> "false".equals(value) ? new BenchSettings(name, List.of(), delaysMs, intervalsMs, runs, writeWindowMs, tailMs, scale,
          routingFeeds, routingPublishMs, routingOfferedPerSecond, sseTarget, sseRuns, sseChangesPerSecond, sseLoadMs, scaleDelayMs) : this;
      default -> throw new IllegalArgumentException("unknown option --" + key);
    };
  }

  private static List<Long> longs(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).map(Long::parseLong).toList();
  }
}
