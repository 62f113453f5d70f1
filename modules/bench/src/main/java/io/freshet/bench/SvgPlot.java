package io.freshet.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A hand-written SVG of commit-to-client latency: one panel per sweep apply delay, then the stall
 * phase and the fan-out phases when they ran. Each panel draws, per mode, the cumulative share of
 * <em>all</em> writes delivered by a given latency (log time axis), so a mode whose writes never
 * arrived tops out below 100 %, with the gap drawn as a dashed drop at the right edge and counted in
 * the legend; the backstop's region (latencies of 15 s and more: only a backstop read delivered
 * those) is shaded. A dashed vertical line marks the panel's reference (the apply delay: the
 * physical limit for replica reads).
 */
public final class SvgPlot {

  private static final String[] COLOURS = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
  private static final int PANEL_W = 520;
  private static final int LEFT = 60;
  private static final int TOP = 40;
  private static final int PLOT_W = 420;
  private static final int PLOT_H = 200;
  private static final int LEGEND_LINE = 15;
  private static final double MIN_MS = 1;
  private static final double MAX_MS = 30_000;
  /** Latencies from here on came from a backstop read (router.livePollTimeoutMs is 20 s, less its jitter). */
  static final double BACKSTOP_MS = 15_000;
  private static final int CDF_POINTS = 400;

  /**
   * One mode's curve: (latency ms, cumulative count) points in ascending order over the
   * {@code delivered} writes that arrived, and how many never did.
   */
  public record Series(String name, double[][] points, long delivered, long missing) {

    /** From every latency, ascending. */
    public static Series of(String name, long[] sorted, long missing) {
      List<double[]> points = new ArrayList<>();
      int step = Math.max(1, sorted.length / CDF_POINTS);
      for (int i = 0; i < sorted.length; i += step) {
        points.add(new double[] {sorted[i], i + 1});
      }
      if (sorted.length > 0) {
        points.add(new double[] {sorted[sorted.length - 1], sorted.length});
      }
      return new Series(name, points.toArray(double[][]::new), sorted.length, missing);
    }

    /** From a per-millisecond histogram (the stall and fan-out phases). */
    static Series of(String name, Histogram histogram, long missing) {
      long n = histogram.count();
      List<double[]> points = new ArrayList<>();
      for (int i = 1; i <= CDF_POINTS && n > 0; i++) {
        double p = 100.0 * i / CDF_POINTS;
        points.add(new double[] {histogram.percentile(p), Math.ceil(p / 100.0 * n)});
      }
      return new Series(name, points.toArray(double[][]::new), n, missing);
    }

    long total() {
      return delivered + missing;
    }
  }

  /** One panel: its title, its reference line (ms; 0 for none) and its series in legend order. */
  public record Panel(String title, long referenceMs, List<Series> series) {}

  private SvgPlot() {}

  /** The sweep's points, one panel per apply delay, every mode's writes pooled over the write intervals. */
  public static List<Panel> sweepPanels(List<SweepPoint> points) {
    Map<Long, Map<String, LatencyRecorder>> byDelay = new LinkedHashMap<>();
    Map<Long, Map<String, Long>> missing = new LinkedHashMap<>();
    for (SweepPoint p : points) {
      byDelay.computeIfAbsent(p.applyDelayMs(), d -> new LinkedHashMap<>())
          .computeIfAbsent(p.mode(), m -> new LatencyRecorder()).addAll(p.tally().latency);
      missing.computeIfAbsent(p.applyDelayMs(), d -> new LinkedHashMap<>()).merge(p.mode(), p.tally().missing, Long::sum);
    }
    return byDelay.entrySet().stream().map(e -> {
      List<Series> series = new ArrayList<>();
      e.getValue().forEach((mode, rec) -> series.add(Series.of(mode, rec.snapshot(), missing.get(e.getKey()).get(mode))));
      return new Panel("sweep, apply delay " + e.getKey() + " ms", e.getKey(), series);
    }).toList();
  }

  /** The stall phase: the writes made while the standby's replay was paused, per mode. */
  static Panel stallPanel(List<StallBench.Result> results, long applyDelayMs) {
    List<Series> series = results.stream().map(r -> Series.of(r.mode(), r.pauseLatency(), r.missing())).toList();
    return new Panel("stall (replay paused), writes during the pause", applyDelayMs, series);
  }

  /** The fan-out phases: one curve per phase (write to every subscriber), misses being subscribers without the final value. */
  static Panel fanOutPanel(List<FanOutBench.Phase> phases, long applyDelayMs) {
    // Phases without writes (the held-connections ones) measure holding, not latency: not drawn.
    List<Series> series = phases.stream().filter(p -> p.latency().count() > 0).map(p -> Series.of(p.name() + " (" + p.subscribers() + " subscribers)", p.latency(),
        Math.max(0, p.held() - p.receivedFinal()))).toList();
    return new Panel("fan-out, write to every subscriber", applyDelayMs, series);
  }

  public static String render(String title, List<Panel> panels) {
    int cols = Math.min(2, Math.max(1, panels.size()));
    int rows = (panels.size() + cols - 1) / cols;
    int legendLines = panels.stream().mapToInt(p -> p.series().size()).max().orElse(0);
    int panelH = TOP + PLOT_H + 34 + legendLines * LEGEND_LINE + 10;
    int width = cols * PANEL_W;
    int height = 30 + Math.max(1, rows) * panelH;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
        width, height, width, height));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
    svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>\n", escape(title)));
    for (int i = 0; i < panels.size(); i++) {
      panel(svg, panels.get(i), (i % cols) * PANEL_W, 30 + (i / cols) * panelH);
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void panel(StringBuilder svg, Panel panel, int x0, int y0) {
    int px = x0 + LEFT;
    int py = y0 + TOP;
    svg.append(String.format(Locale.ROOT, "<g class=\"panel\" data-reference=\"%d\">\n", panel.referenceMs()));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s: share of writes delivered by</text>\n",
        px, y0 + 20, escape(panel.title())));
    double backstopX = px + xOf(BACKSTOP_MS);
    svg.append(String.format(Locale.ROOT, "<rect class=\"backstop\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f3f0e6\"/>\n",
        backstopX, py, px + PLOT_W - backstopX, PLOT_H));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#8a7f5a\" text-anchor=\"end\">backstop &#8594;</text>\n",
        px + PLOT_W, py - 4));
    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n",
        px, py, PLOT_W, PLOT_H));
    for (double ms : new double[] {1, 10, 100, 1000, 10000}) {
      double x = px + xOf(ms);
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", x, py, x, py + PLOT_H));
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, py + PLOT_H + 14,
          ms >= 1000 ? (long) (ms / 1000) + " s" : (long) ms + " ms"));
    }
    for (int q = 0; q <= 4; q++) {
      double y = py + PLOT_H - q * PLOT_H / 4.0;
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", px - 4, y + 4, q * 25));
    }
    if (panel.referenceMs() > 0) {
      double x = px + xOf(panel.referenceMs());
      svg.append(String.format(Locale.ROOT,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>\n", x, py, x, py + PLOT_H));
    }
    int i = 0;
    for (Series s : panel.series()) {
      String colour = COLOURS[i % COLOURS.length];
      svg.append(String.format(Locale.ROOT, "<path class=\"series\" data-mode=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"%s\"/>\n",
          escape(s.name()), colour, cdfPath(s, px, py)));
      if (s.missing() > 0) {
        // The writes that never arrived: from the curve's top, a dashed drop at the right edge to 100 %.
        double top = py + PLOT_H - share(s, s.delivered()) * PLOT_H;
        double edge = px + PLOT_W - 2 - 3 * i;
        svg.append(String.format(Locale.ROOT, "<path class=\"missing\" data-mode=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\""
            + " stroke-dasharray=\"3 2\" d=\"M%.1f %.1f L%.1f %.1f L%.1f %d\"/>\n", escape(s.name()), colour,
            px + xOf(lastMs(s)), top, edge, top, edge, py));
      }
      int ly = py + PLOT_H + 34 + i * LEGEND_LINE;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n",
          px, ly - 4, px + 16, ly - 4, colour));
      svg.append(String.format(Locale.ROOT, "<text class=\"legend\" x=\"%d\" y=\"%d\">%s</text>\n", px + 22, ly, escape(legend(s))));
      i++;
    }
    svg.append("</g>\n");
  }

  /** The mode's full name, and what never arrived. */
  static String legend(Series s) {
    if (s.missing() == 0) {
      return s.name() + ": all " + s.total() + " arrived";
    }
    return String.format(Locale.ROOT, "%s: %d of %d never arrived (%.1f%%)", s.name(), s.missing(), s.total(),
        100.0 * s.missing() / s.total());
  }

  /** A step path through (latency, share of all writes). */
  static String cdfPath(Series s, int px, int py) {
    if (s.points().length == 0) {
      return String.format(Locale.ROOT, "M%d %d", px, py + PLOT_H);
    }
    StringBuilder d = new StringBuilder();
    d.append(String.format(Locale.ROOT, "M%.1f %d", px + xOf(s.points()[0][0]), py + PLOT_H));
    for (double[] p : s.points()) {
      d.append(String.format(Locale.ROOT, " L%.1f %.1f", px + xOf(p[0]), py + PLOT_H - share(s, p[1]) * PLOT_H));
    }
    return d.toString();
  }

  private static double share(Series s, double count) {
    return s.total() == 0 ? 0 : count / s.total();
  }

  private static double lastMs(Series s) {
    return s.points().length == 0 ? MIN_MS : s.points()[s.points().length - 1][0];
  }

  private static double xOf(double ms) {
    double v = Math.min(MAX_MS, Math.max(MIN_MS, ms));
    return (Math.log10(v) - Math.log10(MIN_MS)) / (Math.log10(MAX_MS) - Math.log10(MIN_MS)) * PLOT_W;
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
