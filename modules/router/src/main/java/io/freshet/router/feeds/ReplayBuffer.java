package io.freshet.router.feeds;

import io.freshet.producer.ChangeRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latest record per run seen in the last few seconds of an environment. A feed registered just
 * after a change read its snapshot from a replica that may not have applied that change yet;
 * replaying recent records through the gate delivers the fresh row once it is safe.
 */
final class ReplayBuffer {

  private record Seen(ChangeRecord record, long atMs) {}

  private final long windowMs;
  private final int maxRuns;
  private final LinkedHashMap<String, Seen> byRun = new LinkedHashMap<>(64, 0.75f, false);
  private long evictions;

  ReplayBuffer(long windowMs, int maxRuns) {
    this.windowMs = windowMs;
    this.maxRuns = maxRuns;
  }

  void add(ChangeRecord record, long nowMs) {
    byRun.remove(record.runId()); // re-insert at the tail: newest last
    byRun.put(record.runId(), new Seen(record, nowMs));
    while (byRun.size() > maxRuns) {
      Iterator<Map.Entry<String, Seen>> oldest = byRun.entrySet().iterator();
      oldest.next();
      oldest.remove();
      evictions++;
    }
    expire(nowMs);
  }

  /** Records seen at or after {@code sinceMs}, oldest first. */
  List<ChangeRecord> since(long sinceMs, long nowMs) {
    expire(nowMs);
    List<ChangeRecord> out = new ArrayList<>();
    for (Seen seen : byRun.values()) {
      if (seen.atMs >= sinceMs) {
        out.add(seen.record);
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
