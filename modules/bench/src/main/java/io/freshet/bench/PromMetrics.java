package io.freshet.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A node's {@code /metrics} as the benchmark reads it over HTTP (nodes in their own processes,
 * and clusters): values by series, sums, and delivery-lag percentiles from bucket counts that were
 * differenced over a phase and summed over nodes.
 */
final class PromMetrics {

  private final Map<String, Double> series;

  private PromMetrics(Map<String, Double> series) {
    this.series = series;
  }

  static PromMetrics parse(String text) {
    Map<String, Double> out = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      try {
        out.merge(line.substring(0, space), Double.parseDouble(line.substring(space + 1)), Double::sum);
      } catch (RuntimeException e) {
        // not a sample line
      }
    }
    return new PromMetrics(out);
  }

  static PromMetrics sum(List<PromMetrics> nodes) {
    Map<String, Double> out = new HashMap<>();
    for (PromMetrics m : nodes) {
      m.series.forEach((k, v) -> out.merge(k, v, Double::sum));
    }
    return new PromMetrics(out);
  }

  /** Counter-style differences (this minus {@code before}). */
  PromMetrics minus(PromMetrics before) {
    Map<String, Double> out = new HashMap<>(series);
    before.series.forEach((k, v) -> out.merge(k, -v, Double::sum));
    return new PromMetrics(out);
  }

  /** The sum of every series whose name (with its labels) starts with {@code prefix}. */
  double sum(String prefix) {
    double total = 0;
    for (Map.Entry<String, Double> e : series.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        total += e.getValue();
      }
    }
    return total;
  }

  /** The sum of the series of metric {@code name} whose label {@code label} is {@code value}, whatever their other labels. */
  double sum(String name, String label, String value) {
    double total = 0;
    for (Map.Entry<String, Double> e : series.entrySet()) {
      if (e.getKey().startsWith(name + "{") && value.equals(label(e.getKey(), label))) {
        total += e.getValue();
      }
    }
    return total;
  }

  /**
   * A percentile of a histogram's cumulative {@code _bucket} series ({@code le} labels), linearly
   * interpolated inside the bucket; NaN without samples.
   */
  double percentile(String histogram, double p) {
    TreeMap<Double, Double> cumulative = new TreeMap<>();
    String prefix = histogram + "_bucket{";
    for (Map.Entry<String, Double> e : series.entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        continue;
      }
      String le = label(e.getKey(), "le");
      double bound = "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
      cumulative.merge(bound, e.getValue(), Double::sum);
    }
    if (cumulative.isEmpty() || cumulative.lastEntry().getValue() <= 0) {
      return Double.NaN;
    }
    double total = cumulative.lastEntry().getValue();
    double rank = p / 100.0 * total;
    double lower = 0;
    double below = 0;
    List<Map.Entry<Double, Double>> entries = new ArrayList<>(cumulative.entrySet());
    for (Map.Entry<Double, Double> e : entries) {
      if (e.getValue() >= rank) {
        if (Double.isInfinite(e.getKey())) {
          return lower;
        }
        double inBucket = e.getValue() - below;
        double fraction = inBucket <= 0 ? 1 : (rank - below) / inBucket;
        return lower + fraction * (e.getKey() - lower);
      }
      lower = e.getKey();
      below = e.getValue();
    }
    return lower;
  }

  private static String label(String series, String name) {
    int at = series.indexOf(name + "=\"");
    if (at < 0) {
      return "";
    }
    int start = at + name.length() + 2;
    return series.substring(start, series.indexOf('"', start));
  }
}
