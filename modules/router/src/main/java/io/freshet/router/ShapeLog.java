package io.freshet.router;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a feed has emitted, so that a client can resume from any recent offset without losing or
 * repeating a change. Offsets are emission sequence numbers; the log keeps the current working set
 * (run → newest emitted {@code updatedAt}) plus the last {@code retention} emissions, and can
 * rebuild the working set a client held at an older offset (an SSE connection cut mid-stream, a
 * long-poll response that never arrived).
 */
final class ShapeLog {

  private record Entry(long seq, Map<String, Long> versions) {}

  private final int retention;
  private final Map<String, Long> base = new HashMap<>();
  private final Deque<Entry> entries = new ArrayDeque<>();
  private final Map<String, Long> current = new HashMap<>();
  private long baseSeq;
  private long seq;

  ShapeLog(int retention) {
    this.retention = Math.max(1, retention);
  }

  long seq() {
    return seq;
  }

  /** The newest version emitted for {@code runId}, or -1. */
  long version(String runId) {
    return current.getOrDefault(runId, -1L);
  }

  boolean contains(String runId) {
    return current.containsKey(runId);
  }

  int size() {
    return current.size();
  }

  /** Records an emission and returns its sequence number (the new offset). */
  long append(Map<String, Long> versions) {
    seq++;
    Map<String, Long> copy = Map.copyOf(versions);
    entries.addLast(new Entry(seq, copy));
    copy.forEach((run, version) -> current.merge(run, version, Math::max));
    while (entries.size() > retention) {
      Entry oldest = entries.removeFirst();
      oldest.versions.forEach((run, version) -> base.merge(run, version, Math::max));
      baseSeq = oldest.seq;
    }
    return seq;
  }

  /** True when the working set at {@code offset} can be rebuilt. */
  boolean canResumeFrom(long offset) {
    return offset >= baseSeq && offset <= seq;
  }

  /** The working set a client held at {@code offset}; call {@link #canResumeFrom} first. */
  Map<String, Long> at(long offset) {
    if (offset == seq) {
      return current;
    }
    Map<String, Long> view = new HashMap<>(base);
    for (Entry entry : entries) {
      if (entry.seq > offset) {
        break;
      }
      entry.versions.forEach((run, version) -> view.merge(run, version, Math::max));
    }
    return view;
  }

  /** Runs emitted after {@code offset}: what a client resuming from there may have missed. */
  Set<String> changedSince(long offset) {
    Set<String> runs = new HashSet<>();
    for (Entry entry : entries) {
      if (entry.seq > offset) {
        runs.addAll(entry.versions.keySet());
      }
    }
    return runs;
  }

  Collection<String> runs() {
    return current.keySet();
  }
}
