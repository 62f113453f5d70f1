package io.freshet.bench;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The Markdown report: one row per mode and sweep point, ratios against {@code gated} measured in
 * the same run, the scale figures, and the definitions the figures rest on.
 */
public final class ReportWriter {

  private ReportWriter() {}

  public static String table(List<SweepPoint> points) {
    StringBuilder md = new StringBuilder();
    md.append("| mode | apply delay ms | interval ms | runs (lp/sse) | writes | rows | stale | behind | stranded | missing"
        + " | p50 ms | p95 ms | p99 ms | p50−delay | p95−delay | p99−delay | p99 ÷ gated"
        + " | replica q/change | primary q/change | hydrates/change |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (SweepPoint p : points) {
      var t = p.tally();
      Optional<SweepPoint> gated = points.stream()
          .filter(g -> g.mode().equals("gated") && g.applyDelayMs() == p.applyDelayMs() && g.intervalMs() == p.intervalMs())
          .findFirst();
      String ratio = gated.filter(g -> g.p(99) > 0 && p.p(99) >= 0)
          .map(g -> String.format(Locale.ROOT, "%.2f×", p.p(99) / (double) g.p(99))).orElse("–");
      md.append(String.format(Locale.ROOT,
          "| %s | %d | %d | %d (%d/%d) | %d | %d | %s | %s | %d/%d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
          p.mode(), p.applyDelayMs(), p.intervalMs(), p.runs(), p.longPollSubscribers(), p.sseSubscribers(), p.writes(),
          t.delivered, share(t.stale, t.delivered), share(t.behind, t.delivered), t.stranded, t.subscribers, t.missing,
          ms(p.p(50)), ms(p.p(95)), ms(p.p(99)),
          overhead(p.p(50), p.applyDelayMs()), overhead(p.p(95), p.applyDelayMs()), overhead(p.p(99), p.applyDelayMs()),
          ratio, num(p.perChange(p.replicaQueries())), num(p.perChange(p.primaryQueries())), num(p.perChange(p.hydrates()))));
    }
    return md.toString();
  }

  public static String scale(ScaleResult s) {
    if (s == null) {
      return "";
    }
    StringBuilder md = new StringBuilder();
    md.append("| scale figure (gated) | measured | target |\n|---|---:|---:|\n");
    md.append(String.format(Locale.ROOT, "| change records routed per second, %d held feeds (burst, until drained) | %,.0f (%,d of %,d published, in %,d ms) | ≥ 20,000 |\n",
        s.heldFeeds(), s.routedPerSecond(), s.recordsRouted(), s.recordsPublished(), s.routingMs()));
    md.append(String.format(Locale.ROOT, "| hydrate queries per second during that | %,.0f | – |\n", s.hydratesPerSecond()));
    return md.toString();
  }

  /** The stall phase: one row per mode. */
  public static String stall(List<StallBench.Result> results, long pauseMs, long applyDelayMs) {
    if (results.isEmpty()) {
      return "";
    }
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Standby apply delay %d ms; its replay paused for %d s in the middle of the writes; no backstop inside the phase.%n%n",
        applyDelayMs, pauseMs / 1000));
    md.append("| mode | writes (during the pause) | rows | stale (client) | delivered below watermark (node) | write→arrival during the pause p50 / p99 / max"
        + " | write→arrival all p99 | last paused write after the resume | primary reads per paused change | missing | node CPU s |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (StallBench.Result r : results) {
      md.append(String.format(Locale.ROOT, "| %s | %d (%d) | %d | %d | %.0f | %s / %s / %s ms | %s ms | %+d ms | %s | %d | %.1f |\n",
          r.mode(), r.writes(), r.pausedWrites(), r.rows(), r.stale(), r.gaveUp(), ms(r.pauseLatency().percentile(50)),
          ms(r.pauseLatency().percentile(99)), ms(r.pauseLatency().percentile(100)), ms(r.allLatency().percentile(99)),
          r.resumeToLastMs(), num(r.primaryReadsPerPausedChange()), r.missing(), r.nodeCpu()));
    }
    md.append(String.format(Locale.ROOT, "%nTargets: 0 stale in the modes that read the primary (gated, primary-reads); during the stall each change"
        + " within gate.freshWithinMs + 100 ms (%d ms); at most 1 primary read per change the replica could not serve."
        + " `primary-reads` counts its router's read queries (batched), `gated` the runs its fallback read.%n", StallBench.FRESH_WITHIN_MS + 100));
    return md.toString();
  }

  /** The fan-out phases. */
  public static String fanOut(List<FanOutBench.Phase> phases, long applyDelayMs) {
    if (phases.isEmpty()) {
      return "";
    }
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Standby apply delay %d ms. Nodes and load clients in their own processes; CPU seconds over each phase.%n%n", applyDelayMs));
    md.append("| phase | subscribers held | changes written (offered /s) | rows delivered (/s) | commit→client p50 / p95 / p99 | p95 − nchan's"
        + " | server-side p50 / p99 | received the final value | server CPU s | load client CPU s | changes settled from records / by reads |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    FanOutBench.Phase reference = phases.stream().filter(p -> p.name().contains("nchan")).findFirst().orElse(null);
    for (FanOutBench.Phase p : phases) {
      if (p.writes() == 0) {
        continue;
      }
      String vsReference = reference == null || p == reference || !p.name().startsWith("hot run") ? "–"
          : String.format(Locale.ROOT, "%+d ms", p.latency().percentile(95) - reference.latency().percentile(95));
      md.append(String.format(Locale.ROOT, "| %s | %,d of %,d | %,d (%,d) | %,d (%,.0f) | %s / %s / %s ms | %s | %s / %s ms | %,d of %,d | %.1f | %.1f | %s |\n",
          p.name(), p.held(), p.subscribers(), p.writes(), p.offeredPerSecond(), p.rows(), p.rowsPerSecond(),
          ms(p.latency().percentile(50)), ms(p.latency().percentile(95)), ms(p.latency().percentile(99)), vsReference,
          num0(p.serverP50()), num0(p.serverP99()), p.receivedFinal(), p.subscribers(), p.nodeCpu(), p.clientCpu(),
          p == reference ? "–" : String.format(Locale.ROOT, "%,d / %,d", p.settledFromRecords(), p.settledByReads())));
    }
    md.append("\n| held connections | held of attempted (failed) | node heap before → after (full GC) | node heap per subscriber | node CPU s (ramp) | load client CPU s |\n");
    md.append("|---|---:|---:|---:|---:|---:|\n");
    for (FanOutBench.Phase p : phases) {
      if (p.writes() != 0) {
        continue;
      }
      md.append(String.format(Locale.ROOT, "| %s | %,d of %,d (%,d) | %,d → %,d MB | %,.0f bytes | %.1f | %.1f |\n",
          p.name(), p.held(), p.subscribers(), p.failed(), p.heapBeforeBytes() >> 20, p.heapAfterBytes() >> 20,
          p.heapBytesPerSubscriber(), p.nodeCpu(), p.clientCpu()));
    }
    md.append(String.format(Locale.ROOT, "%nThe nchan reference is nginx with the nchan module forwarding each published message (the same"
        + " lines, about the same size) to every subscriber: the same load client and pacing, no database; its server CPU is nginx's."
        + " gated+rows serves changes from their records; gated waits for the replica.%n"));
    md.append(String.format(Locale.ROOT, "%nTargets: hot run (gated+rows) p95 within 25 ms of nchan's; hot run (gated) p95 ≤ %d ms (delay + 100); many runs ≥ 99%% of the offered changes delivered at p99 ≤ %d ms;"
        + " ≥ 19,000 held SSE subscribers on one node at ≤ 8 KB of heap each, about three times that on three nodes.%n", applyDelayMs + 100, applyDelayMs + 100));
    return md.toString();
  }

  public static String report(String header, List<SweepPoint> points, List<StallBench.Result> stall, BenchSettings settings,
      ScaleResult scale, List<FanOutBench.Phase> fanOut, String notes) {
    return header + "\n\n## Freshness and latency, per mode and sweep point\n\n" + table(points)
        + (stall.isEmpty() ? "" : "\n## Stall: the standby's replay paused\n\n" + stall(stall, settings.stallPauseMs(), settings.stallDelayMs()))
        + (scale == null ? "" : "\n## Routing (gated only)\n\n" + scale(scale))
        + (fanOut.isEmpty() ? "" : "\n## Fan-out\n\n" + fanOut(fanOut, settings.scaleDelayMs())) + "\n" + notes;
  }

  static String num0(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f", v);
  }

  static String share(long n, long of) {
    if (of == 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.1f%%", 100.0 * n / of);
  }

  static String ms(long v) {
    return v < 0 ? "–" : Long.toString(v);
  }

  static String overhead(long v, long delay) {
    return v < 0 ? "–" : Long.toString(v - delay);
  }

  static String num(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
  }
}
