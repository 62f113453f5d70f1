package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latest record per run seen in the last few seconds of an environment, with the row it carried
 * (if any). A feed registered just after a change read its snapshot from a replica that may not
 * have applied that change yet: a carried row goes into the snapshot as it is (the snapshot never
 * starts older than what a subscriber of another log was just shown), and a record without one is
 * replayed through the gate, which delivers the fresh row once it is safe.
 */
final class ReplayBuffer {

  /** A recent record, and the row it carried (null: none this node serves). */
  record Seen(ChangeRecord record, RunRow row, long atMs) {}

  private final long windowMs;
  private final int maxRuns;
  private final LinkedHashMap<String, Seen> byRun = new LinkedHashMap<>(64, 0.75f, false);
  private long evictions;

  ReplayBuffer(long windowMs, int maxRuns) {
    this.windowMs = windowMs;
    this.maxRuns = maxRuns;
  }

  void add(ChangeRecord record, RunRow row, long nowMs) {
    Seen previous = byRun.remove(record.runId()); // re-insert at the tail: newest last
    if (previous != null && record.hasWatermark() && previous.record.hasWatermark()
        && previous.record.updatedAtMs() > record.updatedAtMs()) {
      row = previous.row; // a late record of an older version: keep the newer one it would hide
      record = previous.record;
    }
    byRun.put(record.runId(), new Seen(record, row, nowMs));
    while (byRun.size() > maxRuns) {
      Iterator<Map.Entry<String, Seen>> oldest = byRun.entrySet().iterator();
      oldest.next();
      oldest.remove();
      evictions++;
    }
    expire(nowMs);
  }

  /** Records seen at or after {@code sinceMs}, oldest first, with their rows. */
  List<Seen> since(long sinceMs, long nowMs) {
    expire(nowMs);
    List<Seen> out = new ArrayList<>();
    for (Seen seen : byRun.values()) {
      if (seen.atMs >= sinceMs) {
        out.add(seen);
      }
    }
    return out;
  }

  long evictions() {
    return evictions;
  }

  int size() {
    return byRun.size();
  }

  private void expire(long nowMs) {
    Iterator<Seen> it = byRun.values().iterator();
    while (it.hasNext()) {
      if (it.next().atMs < nowMs - windowMs) {
        it.remove();
      } else {
        break; // insertion-ordered by time
      }
    }
  }
}
