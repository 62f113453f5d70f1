package io.freshet.bench;

import io.freshet.bench.RunTrace.Delivery;
import io.freshet.bench.RunTrace.Write;
import java.util.Comparator;
import java.util.List;

/**
 * Classifies what one subscriber of one run received against what was committed. Pure: the
 * definitions of the benchmark's figures live here and nowhere else.
 *
 * <ul>
 *   <li><b>stale</b>: a delivered row whose {@code seq} is lower than the newest write whose PUT
 *       returned more than {@code applyDelay + tolerance} before the row arrived. The standby had
 *       applied a newer version by then, so delivering the older one was not forced by the lag.
 *   <li><b>behind</b>: a delivered row whose {@code seq} is lower than the newest write whose PUT
 *       returned before the row arrived ("one change behind" as the user sees it). When the write
 *       interval exceeds the apply delay plus the gate margin, only one change can be in flight, so
 *       this is exactly "older than the change that woke it"; at faster points every mode that
 *       reads the replica shows it, because newer writes are still in flight to the standby.
 *   <li><b>stranded</b>: the run's final write had not arrived {@code applyDelay + strandGrace}
 *       after its PUT returned.
 *   <li><b>latency</b> of write k: the first arrival of a row with {@code seq >= k}, minus the time
 *       the PUT of k returned. Writes whose content never arrived are counted as missing, not
 *       recorded.
 * </ul>
 */
public final class FreshnessClassifier {

  /** Counts for one or more subscribers; {@link #add} merges. */
  public static final class Tally {
    public long delivered;
    public long stale;
    public long behind;
    public long subscribers;
    public long stranded;
    public long missing;
    public final LatencyRecorder latency = new LatencyRecorder();

    public void add(Tally other) {
      delivered += other.delivered;
      stale += other.stale;
      behind += other.behind;
      subscribers += other.subscribers;
      stranded += other.stranded;
      missing += other.missing;
      latency.addAll(other.latency);
    }
  }

  private final long applyDelayMs;
  private final long toleranceMs;
  private final long strandGraceMs;

  public FreshnessClassifier(long applyDelayMs, long toleranceMs, long strandGraceMs) {
    this.applyDelayMs = applyDelayMs;
    this.toleranceMs = toleranceMs;
    this.strandGraceMs = strandGraceMs;
  }

  /**
   * @param writes the run's writes that count (the workload's updates, not the initial trigger)
   * @param deliveries what one subscriber received; rows arriving before {@code fromMs} (the
   *     snapshot and anything before the first update) are ignored
   */
  public Tally classify(List<Write> writes, List<Delivery> deliveries, long fromMs) {
    Tally tally = new Tally();
    tally.subscribers = 1;
    List<Write> ws = writes.stream().sorted(Comparator.comparingInt(Write::seq)).toList();
    List<Delivery> ds = deliveries.stream().filter(d -> d.arrivedAtMs() >= fromMs)
        .sorted(Comparator.comparingLong(Delivery::arrivedAtMs)).toList();
    for (Delivery d : ds) {
      tally.delivered++;
      if (d.seq() < newestReturnedBy(ws, d.arrivedAtMs() - applyDelayMs - toleranceMs)) {
        tally.stale++;
      }
      if (d.seq() < newestReturnedBy(ws, d.arrivedAtMs())) {
        tally.behind++;
      }
    }
    for (Write w : ws) {
      long first = firstArrivalCovering(ds, w.seq());
      if (first < 0) {
        tally.missing++;
      } else {
        tally.latency.record(first - w.returnedAtMs());
      }
    }
    if (!ws.isEmpty()) {
      Write last = ws.get(ws.size() - 1);
      long first = firstArrivalCovering(ds, last.seq());
      if (first < 0 || first > last.returnedAtMs() + applyDelayMs + strandGraceMs) {
        tally.stranded = 1;
      }
    }
    return tally;
  }

  /** The highest seq whose PUT returned at or before {@code atMs}; {@code Integer.MIN_VALUE} if none. */
  static int newestReturnedBy(List<Write> writes, long atMs) {
    int newest = Integer.MIN_VALUE;
    for (Write w : writes) {
      if (w.returnedAtMs() <= atMs) {
        newest = Math.max(newest, w.seq());
      }
    }
    return newest;
  }

  private static long firstArrivalCovering(List<Delivery> ds, int seq) {
    for (Delivery d : ds) {
      if (d.seq() >= seq) {
        return d.arrivedAtMs();
      }
    }
    return -1;
  }
}
