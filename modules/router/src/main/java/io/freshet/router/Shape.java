package io.freshet.router;

import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.ShapeHandle;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One feed (an Electric handle): what it follows, what it has emitted, and the rows that changed
 * since. It stays registered between polls, so changes that land while no poll is held wait here
 * as pending rows instead of being lost.
 */
final class Shape {

  /** A live poll held until rows arrive or its hold ends. */
  record Waiting(String pollId, PollReply reply, long offset, long timerId) {}

  final ShapeHandle handle;
  final String envId;
  final FeedFilter filter;
  final Set<RunColumn> columns;
  final ShapeLog log;
  final Map<String, RunRow> pending = new LinkedHashMap<>();
  Waiting waiting;
  long lastActivityMs;
  boolean opened;

  Shape(ShapeHandle handle, String envId, FeedFilter filter, Set<RunColumn> columns, int logRetention, long nowMs) {
    this.handle = handle;
    this.envId = envId;
    this.filter = filter;
    this.columns = columns;
    this.log = new ShapeLog(logRetention);
    this.lastActivityMs = nowMs;
  }

  /** Keeps {@code row} if the feed follows it and it is newer than anything emitted or pending. */
  boolean offer(RunRow row) {
    if (!filter.matches(row)) {
      return false;
    }
    RunRow held = pending.get(row.runId());
    long known = Math.max(log.version(row.runId()), held == null ? -1 : held.updatedAtMs());
    if (row.updatedAtMs() <= known) {
      return false;
    }
    pending.put(row.runId(), row);
    return true;
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  /**
   * Emits the pending rows plus {@code extra}, as a client holding {@code clientView} needs them:
   * rows it has never seen are inserts, others updates. Returns the poll reply body.
   */
  JsonObject emit(Map<String, Long> clientView, Collection<RunRow> extra, long nowMs) {
    Map<String, RunRow> rows = new HashMap<>(pending);
    for (RunRow row : extra) {
      rows.merge(row.runId(), row, (a, b) -> a.updatedAtMs() >= b.updatedAtMs() ? a : b);
    }
    List<RunRow> ordered = new ArrayList<>(rows.values());
    ordered.sort(Comparator.comparingLong(RunRow::updatedAtMs));
    JsonArray messages = new JsonArray();
    Map<String, Long> versions = new HashMap<>();
    long newest = 0;
    boolean completed = false;
    for (RunRow row : ordered) {
      Long seen = clientView.get(row.runId());
      if (seen != null && row.updatedAtMs() <= seen) {
        continue;
      }
      messages.add(row.message(columns, seen == null));
      versions.put(row.runId(), row.updatedAtMs());
      newest = Math.max(newest, row.updatedAtMs());
      completed |= row.isCompleted();
    }
    pending.clear();
    lastActivityMs = nowMs;
    long seq = versions.isEmpty() && log.seq() > 0 ? log.seq() : log.append(versions);
    return new JsonObject().put("seq", seq).put("messages", messages).put("newest", newest).put("completed", completed);
  }

  /** A reply that changes nothing: the client keeps its offset. */
  static JsonObject unchanged(long offset) {
    return new JsonObject().put("seq", offset).put("messages", new JsonArray()).put("newest", 0L).put("completed", false);
  }
}
