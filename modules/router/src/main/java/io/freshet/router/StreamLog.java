package io.freshet.router;

import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One stream as a node follows it for its readers: the chunks it has delivered (the latest ones
 * kept as a tail, for readers that join or reconnect), what the primary is known to have committed
 * (from announcements: the last seq and its watermark), where the stream ends once it is closed,
 * and the state of its next read.
 */
final class StreamLog {

  enum State {
    /** Subscribing and reading the stream's state on the primary; watchers wait. */
    OPENING,
    /** Reading the replica as announcements arrive. */
    OPEN
  }

  final StreamRef ref;
  State state = State.OPENING;
  final List<StreamFeeds.Waiter> waiting = new ArrayList<>();
  final Set<String> sinks = new HashSet<>();

  /** The last seq delivered to the sinks; chunks up to it are in the tail or were. */
  long delivered;
  private final ArrayDeque<StreamChunk> tail = new ArrayDeque<>();
  private final int tailMax;
  /** The seq the tail starts at (delivered + 1 while it is empty). */
  private long tailFirst;

  /** The last seq the primary is known to have committed, and the primary's clock at that commit. */
  long known;
  long knownAtMs;
  /** The stream's last seq once it is closed or its run ended; null while it is open. */
  Long finalSeq;
  boolean completeSent;

  /** The pending read: when it is due, whether it waits for that time or is queued for the next round, whether it goes to the primary. */
  long dueAtMs = Long.MAX_VALUE;
  boolean scheduled;
  boolean queued;
  boolean fromPrimary;
  /** Stale reads since the last fresh one, and the largest lag they proved. */
  int attempts;
  long observedMs;

  long idleSinceMs;
  long checkedAtMs;

  StreamLog(StreamRef ref, long startAfter, int tailMax, long nowMs) {
    this.ref = ref;
    this.delivered = startAfter;
    this.tailFirst = startAfter + 1;
    this.known = startAfter;
    this.tailMax = Math.max(1, tailMax);
    this.idleSinceMs = nowMs;
    this.checkedAtMs = nowMs;
  }

  boolean complete() {
    return finalSeq != null && delivered >= finalSeq;
  }

  /** Whether the primary has chunks this log has not delivered. */
  boolean behind() {
    return known > delivered;
  }

  /**
   * A commit not delivered yet: its last seq, its watermark, and when its announcement arrived.
   * Each has its own gate time, so a chunk committed just after a read was planned is read at its
   * own time, not held back until the next one's.
   */
  record Mark(long seq, long watermarkMs, long arrivedAtMs) {}

  /** Marks kept per log; past it the newest two merge (the later watermark: never read early). */
  static final int MAX_MARKS = 64;
  private final ArrayDeque<Mark> marks = new ArrayDeque<>();
  /** What the read in flight must reach to be fresh: the latest mark due when it started. */
  Mark readTarget;

  /** The primary committed up to {@code lastSeq} at {@code atMs}; the announcement arrived at {@code arrivedAtMs}. */
  void committed(long lastSeq, long atMs, long arrivedAtMs) {
    if (lastSeq > known) {
      known = lastSeq;
      knownAtMs = atMs;
      if (marks.size() >= MAX_MARKS) {
        Mark last = marks.pollLast();
        marks.addLast(new Mark(lastSeq, Math.max(last.watermarkMs(), atMs), last.arrivedAtMs()));
      } else {
        marks.addLast(new Mark(lastSeq, atMs, arrivedAtMs));
      }
    }
  }

  /** The earliest commit not delivered yet, or null. */
  Mark nextMark() {
    while (!marks.isEmpty() && marks.peekFirst().seq() <= delivered) {
      marks.pollFirst();
    }
    return marks.peekFirst();
  }

  /** The latest undelivered commit whose gate time has come by {@code readAtMs} (null: none). */
  Mark dueBy(long readAtMs, java.util.function.ToLongFunction<Mark> dueAt) {
    Mark due = null;
    for (Mark mark : marks) {
      if (mark.seq() > delivered && dueAt.applyAsLong(mark) <= readAtMs) {
        due = mark;
      }
    }
    return due;
  }

  /** Takes the chunks a read returned (seq order); returns those past what was delivered. */
  List<StreamChunk> take(List<StreamChunk> chunks) {
    List<StreamChunk> fresh = new ArrayList<>(chunks.size());
    for (StreamChunk chunk : chunks) {
      if (chunk.seq() > delivered) {
        fresh.add(chunk);
        tail.addLast(chunk);
        delivered = chunk.seq();
      }
    }
    while (tail.size() > tailMax) {
      tail.pollFirst();
    }
    tailFirst = tail.isEmpty() ? delivered + 1 : tail.peekFirst().seq();
    if (delivered > known) {
      known = delivered;
    }
    return fresh;
  }

  /** Whether a reader at {@code afterSeq} can be served from the tail alone. */
  boolean tailCovers(long afterSeq) {
    return afterSeq + 1 >= tailFirst;
  }

  long tailFirst() {
    return tailFirst;
  }

  /** Tail chunks after {@code afterSeq}. */
  List<StreamChunk> after(long afterSeq) {
    List<StreamChunk> out = new ArrayList<>();
    for (StreamChunk chunk : tail) {
      if (chunk.seq() > afterSeq) {
        out.add(chunk);
      }
    }
    return out;
  }
}
