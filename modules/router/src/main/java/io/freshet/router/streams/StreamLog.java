package io.freshet.router.streams;

import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One stream as a node follows it for its readers: the chunks it has delivered (the latest kept as
 * a tail, for readers that join or reconnect), the last seq the primary is known to have committed,
 * where the stream ends once it is closed, and whether its end was pushed. Its reads are the
 * engine's ({@link io.freshet.router.engine.GatedReads}); a log only takes what they return.
 */
final class StreamLog {

  enum State {
    /** Subscribing and reading the stream's state on the primary; followers wait. */
    OPENING,
    /** Read from the replica as announcements arrive. */
    OPEN
  }

  final StreamRef ref;
  private State state = State.OPENING;
  /** The last seq delivered to the sinks; chunks up to it are in the tail or were. */
  private long delivered;
  private final ArrayDeque<StreamChunk> tail = new ArrayDeque<>();
  private final int tailMax;
  /** The last seq the primary is known to have committed. */
  private long known;
  /** The stream's last seq once it is closed or its run ended; null while it is open. */
  private Long finalSeq;
  private boolean completeSent;
  private long idleSinceMs;
  private long checkedAtMs;

  StreamLog(StreamRef ref, long startAfter, int tailMax, long nowMs) {
    this.ref = ref;
    this.delivered = startAfter;
    this.known = startAfter;
    this.tailMax = Math.max(1, tailMax);
    this.idleSinceMs = nowMs;
    this.checkedAtMs = nowMs;
  }

  boolean isOpen() {
    return state == State.OPEN;
  }

  void opened(long nowMs) {
    state = State.OPEN;
    checkedAtMs = nowMs;
  }

  long delivered() {
    return delivered;
  }

  long known() {
    return known;
  }

  /** Whether the primary has chunks this log has not delivered. */
  boolean behind() {
    return known > delivered;
  }

  /** The primary committed up to {@code lastSeq}; returns whether that is news. */
  boolean committed(long lastSeq) {
    if (lastSeq > known) {
      known = lastSeq;
      return true;
    }
    return false;
  }

  /** The stream ends at {@code lastSeq} (closed), or at what is known (its run ended; null: as known). */
  void ends(Long lastSeq) {
    long end = Math.max(known, lastSeq == null ? known : lastSeq);
    finalSeq = finalSeq == null ? end : Math.max(finalSeq, end);
  }

  boolean ending() {
    return finalSeq != null;
  }

  boolean complete() {
    return finalSeq != null && delivered >= finalSeq;
  }

  /** Whether the end is to be pushed now (once). */
  boolean completing() {
    if (complete() && !completeSent) {
      completeSent = true;
      return true;
    }
    return false;
  }

  /** Takes the chunks a read returned (seq order); returns the slice of those past what was delivered. */
  ChunkSlice take(List<StreamChunk> chunks) {
    long from = delivered;
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
    known = Math.max(known, delivered);
    return ChunkSlice.of(from, fresh);
  }

  /** What a follower at {@code afterSeq} missed, when the tail holds all of it; null when it does not. */
  Caught fromTail(long afterSeq) {
    long tailFirst = tail.isEmpty() ? delivered + 1 : tail.peekFirst().seq();
    if (afterSeq < tailFirst - 1 && afterSeq < delivered) {
      return null;
    }
    List<StreamChunk> out = new ArrayList<>();
    for (StreamChunk chunk : tail) {
      if (chunk.seq() > afterSeq) {
        out.add(chunk);
      }
    }
    return new Caught(ChunkSlice.of(afterSeq, out), complete(), false);
  }

  /** The first seq the tail holds (delivered + 1 while it is empty). */
  long tailFirst() {
    return tail.isEmpty() ? delivered + 1 : tail.peekFirst().seq();
  }

  void followed() {
    idleSinceMs = Long.MAX_VALUE;
  }

  void unfollowed(long nowMs) {
    idleSinceMs = nowMs;
  }

  boolean idleSince(long sinceMs) {
    return idleSinceMs <= sinceMs;
  }

  /** Whether the backstop's check on the primary is due, and if so, that it runs now. */
  boolean backstopDue(long nowMs, long everyMs) {
    if (complete() || nowMs - checkedAtMs < everyMs) {
      return false;
    }
    checkedAtMs = nowMs;
    return true;
  }
}
