package io.freshet.router;

import io.freshet.core.RunRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks each hydrated row against the watermark of the record that woke it. A row older than its
 * watermark, or missing altogether (the insert race), was read before the replica applied the
 * write: delivering it would put the previous content on the wire.
 */
final class StaleRowTripwire {

  /** The hydrate split: rows safe to deliver, runs read too early, and the largest lag seen. */
  record Verdict(List<RunRow> fresh, Map<String, RunRow> staleRows, List<String> staleRuns, long observedLagMs) {}

  private StaleRowTripwire() {}

  /**
   * @param expected watermark per run (runs whose records carried none are absent: they always pass)
   * @param runs the runs this hydrate asked for
   * @param readAtMs when the read was sent
   */
  static Verdict check(Iterable<String> runs, Map<String, Long> expected, Map<String, RunRow> rows, long readAtMs) {
    List<RunRow> fresh = new ArrayList<>();
    Map<String, RunRow> staleRows = new HashMap<>();
    List<String> staleRuns = new ArrayList<>();
    long observed = 0;
    for (String run : runs) {
      RunRow row = rows.get(run);
      Long watermark = expected.get(run);
      if (watermark != null && (row == null || row.updatedAtMs() < watermark)) {
        staleRuns.add(run);
        if (row != null) {
          staleRows.put(run, row);
        }
        observed = Math.max(observed, readAtMs - watermark);
      } else if (row != null) {
        fresh.add(row);
      }
    }
    return new Verdict(fresh, staleRows, staleRuns, observed);
  }
}
