package io.freshet.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A hand-written SVG: one panel per apply delay, each with the cumulative distribution of
 * commit-to-client latency of every mode (one path per mode, all write intervals pooled) on a
 * logarithmic time axis, and a dashed line at the apply delay (the physical limit for replica
 * reads).
 */
public final class SvgPlot {

  private static final String[] COLOURS = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
  private static final int PANEL_W = 460;
  private static final int PANEL_H = 300;
  private static final int LEFT = 60;
  private static final int TOP = 40;
  private static final int PLOT_W = 360;
  private static final int PLOT_H = 200;
  private static final double MIN_MS = 1;
  private static final double MAX_MS = 30_000;

  /** One panel: an apply delay and, per mode (in legend order), its latency samples in ascending order. */
  public record Panel(long applyDelayMs, Map<String, long[]> series) {}

  private SvgPlot() {}

  /** Groups the sweep's points into one panel per apply delay. */
  public static List<Panel> panels(List<SweepPoint> points) {
    Map<Long, Map<String, LatencyRecorder>> byDelay = new LinkedHashMap<>();
    for (SweepPoint p : points) {
      byDelay.computeIfAbsent(p.applyDelayMs(), d -> new LinkedHashMap<>())
          .computeIfAbsent(p.mode(), m -> new LatencyRecorder()).addAll(p.tally().latency);
    }
    return byDelay.entrySet().stream().map(e -> {
      Map<String, long[]> series = new LinkedHashMap<>();
      e.getValue().forEach((mode, rec) -> series.put(mode, rec.snapshot()));
      return new Panel(e.getKey(), series);
    }).toList();
  }

  public static String render(String title, List<Panel> panels) {
    int cols = Math.min(2, Math.max(1, panels.size()));
    int rows = (panels.size() + cols - 1) / cols;
    int width = cols * PANEL_W;
    int height = 30 + Math.max(1, rows) * PANEL_H;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
        width, height, width, height));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height));
    svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>\n", escape(title)));
    for (int i = 0; i < panels.size(); i++) {
      int x0 = (i % cols) * PANEL_W;
      int y0 = 30 + (i / cols) * PANEL_H;
      panel(svg, panels.get(i), x0, y0);
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void panel(StringBuilder svg, Panel panel, int x0, int y0) {
    int px = x0 + LEFT;
    int py = y0 + TOP;
    svg.append(String.format(Locale.ROOT, "<g class=\"panel\" data-apply-delay=\"%d\">\n", panel.applyDelayMs()));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">apply delay %d ms: CDF of commit-to-client latency</text>\n",
        px, y0 + 20, panel.applyDelayMs()));
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
    if (panel.applyDelayMs() > 0) {
      double x = px + xOf(panel.applyDelayMs());
      svg.append(String.format(Locale.ROOT,
          "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>\n", x, py, x, py + PLOT_H));
    }
    int i = 0;
    for (Map.Entry<String, long[]> e : panel.series().entrySet()) {
      String colour = COLOURS[i % COLOURS.length];
      svg.append(String.format(Locale.ROOT, "<path class=\"series\" data-mode=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"%s\"/>\n",
          escape(e.getKey()), colour, cdfPath(e.getValue(), px, py)));
      int ly = py + 12 + i * 14;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n",
          px + PLOT_W + 6, ly - 4, px + PLOT_W + 20, ly - 4, colour));
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>\n", px + PLOT_W + 24, ly, escape(e.getKey())));
      i++;
    }
    svg.append("</g>\n");
  }

  /** A step path through (value, cumulative share); at most ~400 points so files stay small. */
  static String cdfPath(long[] sorted, int px, int py) {
    if (sorted.length == 0) {
      return String.format(Locale.ROOT, "M%d %d", px, py + PLOT_H);
    }
    StringBuilder d = new StringBuilder();
    int step = Math.max(1, sorted.length / 400);
    d.append(String.format(Locale.ROOT, "M%.1f %d", px + xOf(sorted[0]), py + PLOT_H));
    for (int i = 0; i < sorted.length; i += step) {
      append(d, sorted, i, px, py);
    }
    append(d, sorted, sorted.length - 1, px, py);
    return d.toString();
  }

  private static void append(StringBuilder d, long[] sorted, int i, int px, int py) {
    double share = (i + 1) / (double) sorted.length;
    d.append(String.format(Locale.ROOT, " L%.1f %.1f", px + xOf(sorted[i]), py + PLOT_H - share * PLOT_H));
  }

  private static double xOf(double ms) {
    double v = Math.min(MAX_MS, Math.max(MIN_MS, ms));
    return (Math.log10(v) - Math.log10(MIN_MS)) / (Math.log10(MAX_MS) - Math.log10(MIN_MS)) * PLOT_W;
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
