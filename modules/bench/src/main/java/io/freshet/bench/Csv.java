package io.freshet.bench;

import java.util.List;
import java.util.Locale;

/** Raw figures per point, for anyone who wants to plot them differently. */
final class Csv {

  private Csv() {}

  static String points(List<SweepPoint> points) {
    StringBuilder csv = new StringBuilder("mode,apply_delay_ms,interval_ms,runs,writes,rows,stale,behind,stranded,subscribers,missing,"
        + "p50_ms,p95_ms,p99_ms,max_ms,replica_statements,primary_feed_statements,hydrates,duration_ms,stale_recovered,stale_gave_up,lag_estimate_ms\n");
    for (SweepPoint p : points) {
      var t = p.tally();
      csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.0f,%.0f,%.0f,%d,%.0f,%.0f,%.0f\n", p.mode(), p.applyDelayMs(),
          p.intervalMs(), p.runs(), p.writes(), t.delivered, t.stale, t.behind, t.stranded, t.subscribers, t.missing, p.p(50), p.p(95),
          p.p(99), t.latency.max(), p.replicaQueries(), p.primaryQueries(), p.hydrates(), p.durationMs(),
          p.staleRecovered(), p.staleGaveUp(), p.lagEstimateMs()));
    }
    return csv.toString();
  }
}
