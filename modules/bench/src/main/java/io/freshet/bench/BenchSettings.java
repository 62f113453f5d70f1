package io.freshet.bench;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;

/**
 * What a benchmark run covers: the sweep, the stall phase, and the scale and fan-out phases' sizes.
 * Any component can be set from the command line by its name ({@code --heldTarget 5000}); a few
 * short aliases are kept ({@code --modes}, {@code --delays}, {@code --intervals}, {@code --sse},
 * {@code --sweep false}).
 */
record BenchSettings(String name, List<String> modes, List<Long> delaysMs, List<Long> intervalsMs, int runs,
    long writeWindowMs, long tailMs, boolean scale, int routingFeeds, long routingPublishMs, int routingOfferedPerSecond,
    int sseTarget, int sseRuns, int sseChangesPerSecond, long sseLoadMs, long scaleDelayMs,
    boolean stall, List<String> stallModes, long stallDelayMs, long stallPauseMs, int stallRuns, long stallIntervalMs,
    boolean fanOut, int hotSubscribers, int hotChangesPerSecond, long hotLoadMs, int manySubscribers, int manyChangesPerSecond,
    long manyLoadMs, int heldTarget, int clusterHeldTarget, boolean streams, int streamCount, int streamChunksPerSecond, long streamLoadMs,
    int hotStreamReaders, boolean halfOpen, int halfOpenSockets, int halfOpenSubscribers, int halfOpenChangesPerSecond, long halfOpenLoadMs,
    long halfOpenHeaderTimeoutMs, boolean replicas, List<Long> replicaDelaysMs, long replicaIntervalMs) {

  static final List<String> MODES = Modes.SWEEP;
  static final List<String> STALL_MODES = Modes.STALL;

  /** CI smoke: one point per mode, a short stall, short scale and fan-out phases; a few minutes. */
  static BenchSettings quick() {
    return new BenchSettings("quick", MODES, List.of(150L), List.of(100L), 10, 2000, 1500,
        true, 1000, 2000, 40_000, 1000, 100, 200, 4000, 150,
        true, STALL_MODES, 150, 3000, 5, 200,
        true, 500, 5, 4000, 500, 200, 4000, 1000, 0,
        true, 100, 100, 4000, 500,
        // Half-open sockets under SSE load: about a minute, so not in the smoke run unless asked for (--halfOpen true).
        false, 5000, 1000, 200, 10_000, 2000,
        true, List.of(20L, 150L, 500L), 100);
  }

  /** The whole sweep, the 10 s stall, and the fan-out targets. */
  static BenchSettings full() {
    return new BenchSettings("full", MODES, List.of(0L, 50L, 150L, 500L), List.of(20L, 100L, 1000L), 10, 3000, 1500,
        true, 1000, 5000, 40_000, 10_000, 1000, 1000, 10_000, 150,
        true, STALL_MODES, 150, 10_000, 10, 100,
        true, 10_000, 5, 20_000, 10_000, 1000, 20_000, 19_000, 57_000,
        true, 1000, 100, 10_000, 5000,
        true, 5000, 1000, 200, 10_000, 2000,
        true, List.of(20L, 150L, 500L), 100);
  }

  /** Writes per run at an interval: enough to fill the window, at least 5 so the tail is a small part. */
  int writesPerRun(long intervalMs) {
    return (int) Math.max(5, writeWindowMs / intervalMs);
  }

  BenchSettings with(String key, String value) {
    switch (key) {
      case "delays" -> key = "delaysMs";
      case "intervals" -> key = "intervalsMs";
      case "sse" -> {
        return with("sseTarget", value).with("sseRuns", Integer.toString(Math.max(10, Integer.parseInt(value) / 10)));
      }
      case "sweep" -> {
        return "false".equals(value) ? with("modes", "") : this;
      }
      default -> { }
    }
    RecordComponent[] components = BenchSettings.class.getRecordComponents();
    Object[] values = new Object[components.length];
    boolean found = false;
    try {
      for (int i = 0; i < components.length; i++) {
        RecordComponent c = components[i];
        values[i] = c.getAccessor().invoke(this);
        if (c.getName().equals(key)) {
          values[i] = parse(c, value);
          found = true;
        }
      }
      if (!found) {
        throw new IllegalArgumentException("unknown option --" + key);
      }
      return (BenchSettings) BenchSettings.class.getDeclaredConstructors()[0].newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object parse(RecordComponent c, String value) {
    Class<?> type = c.getType();
    if (type == int.class) {
      return Integer.parseInt(value);
    }
    if (type == long.class) {
      return Long.parseLong(value);
    }
    if (type == boolean.class) {
      return Boolean.parseBoolean(value);
    }
    if (type == List.class) {
      List<String> items = value.isBlank() ? List.of() : Arrays.stream(value.split(",")).map(String::trim).toList();
      return c.getName().endsWith("Ms") ? items.stream().map(Long::parseLong).toList() : items;
    }
    return value;
  }
}
