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
    md.append(String.format(Locale.ROOT, "| concurrent SSE subscribers held | %,d of %,d attempted (%,d failed) | ≥ 10,000 |\n",
        s.sseHeld(), s.sseTarget(), s.sseFailed()));
    md.append(String.format(Locale.ROOT, "| commit-to-client p50 / p99 at %,.0f changes/s (%,d SSE rows) | %s / %s ms | p99 ≤ %d ms (delay + 100) |\n",
        s.changesPerSecond(), s.sseDeliveries(), ms(s.p50()), ms(s.p99()), s.applyDelayMs() + 100));
    md.append(String.format(Locale.ROOT, "| node heap per SSE subscriber (after full GC; client in its own JVM) | %,.0f bytes (%,d → %,d MB) | – |\n",
        s.heapBytesPerSubscriber(), s.heapBeforeBytes() >> 20, s.heapAfterBytes() >> 20));
    return md.toString();
  }

  public static String report(String header, List<SweepPoint> points, ScaleResult scale, String notes) {
    return header + "\n\n## Freshness and latency, per mode and sweep point\n\n" + table(points)
        + (scale == null ? "" : "\n## Scale (gated only)\n\n" + scale(scale)) + "\n" + notes;
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
