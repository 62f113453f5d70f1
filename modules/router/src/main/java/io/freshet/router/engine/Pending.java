package io.freshet.router.engine;

import java.util.Map;
import java.util.TreeMap;

/**
 * One key's commits not yet read fresh, and where its next read stands. It keeps every outstanding
 * commit (a {@link Mark}) and is gated on the oldest: a newer commit never postpones an older one,
 * so a key written faster than the replica applies still gets each commit as soon as it is safe.
 *
 * <p>{@link Stage} says what it waits for: {@code GATED} the gate's time, {@code RETRYING} the next
 * read after a stale one, {@code WATCHING} the replica to move (the retries ran out: what the
 * replica had was delivered, and the fresh value follows once the replica applies the commit).
 *
 * <p>Owned by {@link GatedReads}; nothing outside the engine sees it.
 */
final class Pending<V> {

  enum Stage { GATED, RETRYING, WATCHING }

  /** A commit: the position it brought the key to, the primary's clock at the commit, and when the engine heard of it. */
  record Mark(long position, long watermarkMs, long arrivedAtMs) {}

  /** Marks kept per key; past it the ones between the oldest and the newest go (reading the newest covers them). */
  static final int MAX_MARKS = 64;

  private final TreeMap<Long, Mark> marks = new TreeMap<>();
  /** A change without a watermark is waiting: read on arrival, with no tripwire. */
  private boolean unstamped;
  private long unstampedAtMs;

  private Stage stage = Stage.GATED;
  /** Stale reads of the current target so far, and the largest lag they proved. */
  private int attempts;
  private long observedMs;
  /** The tightest bracket top the stale reads' replay positions proved, or null. */
  private Long upperMs;
  /** The last stale read's end plus the shortest retry delay. */
  private long notBeforeMs;
  /** The last value a stale read returned, held back; delivered if the retries run out. */
  private V staleValue;
  /** The fallback budget refused this key a primary read: a stale replica read gives up. */
  private boolean refused;
  /** The last replica read failed (refused, reset, timed out): the replica cannot serve it now. */
  private boolean replicaFailed;
  /** Read again at once: a page of more to read, or the replica proved it applied the target. */
  private boolean readNow;
  /** The replica's replay position at the last read while watching (null: unknown). */
  private Long watchedReadAt;
  /** What the read in flight must reach to be fresh. */
  private Mark target;
  /** The newest position delivered from a commit that carried its value (no read), or {@link ReadSource.Reading#NOTHING}. */
  private long arrivedUpTo = ReadSource.Reading.NOTHING;

  // --- commits ----------------------------------------------------------------------------------

  void add(long position, long watermarkMs, long nowMs) {
    marks.putIfAbsent(position, new Mark(position, watermarkMs, nowMs));
    if (marks.size() > MAX_MARKS) {
      marks.remove(marks.higherKey(marks.firstKey()));
    }
  }

  void addUnstamped(long nowMs) {
    if (!unstamped) {
      unstamped = true;
      unstampedAtMs = nowMs;
    }
  }

  /** Takes over what arrived for the same key while it was being read. */
  void merge(Pending<V> arrived) {
    arrived.marks.forEach(marks::putIfAbsent);
    arrivedUpTo = Math.max(arrivedUpTo, arrived.arrivedUpTo);
    if (arrived.unstamped) {
      addUnstamped(arrived.unstampedAtMs);
    }
  }

  /** The oldest outstanding commit, the one the key is gated on; null when none. */
  Mark oldest() {
    Map.Entry<Long, Mark> first = marks.firstEntry();
    return first == null ? null : first.getValue();
  }

  boolean hasMarks() {
    return !marks.isEmpty();
  }

  boolean unstamped() {
    return unstamped;
  }

  long unstampedAtMs() {
    return unstampedAtMs;
  }

  /** The newest commit whose gate time has come by {@code readAtMs}, else the oldest: what a read starting then must reach. */
  Mark targetFor(long readAtMs, java.util.function.ToLongFunction<Mark> dueAt) {
    Mark due = null;
    for (Mark mark : marks.values()) {
      if (dueAt.applyAsLong(mark) <= readAtMs) {
        due = mark;
      }
    }
    target = due != null ? due : oldest();
    return target;
  }

  Mark target() {
    return target;
  }

  /**
   * A read reached {@code position}: the commits up to it are done, and so is a change without a
   * watermark. Returns the watermark of the oldest commit it settled (for the delivery-lag
   * metric), or null.
   */
  Long satisfyUpTo(long position) {
    unstamped = false;
    var done = marks.headMap(position, true);
    Long oldest = done.isEmpty() ? null : done.firstEntry().getValue().watermarkMs();
    done.clear();
    return oldest;
  }

  /**
   * A commit up to {@code position} arrived with its value and was delivered without a read: the
   * commits up to it are done (a change without a watermark is not: it may be newer). Returns the
   * watermark of the oldest commit it settled, or null.
   */
  Long arrived(long position) {
    arrivedUpTo = Math.max(arrivedUpTo, position);
    var done = marks.headMap(position, true);
    Long oldest = done.isEmpty() ? null : done.firstEntry().getValue().watermarkMs();
    done.clear();
    return oldest;
  }

  /** How far values that arrived with their commits reached. */
  long arrivedUpTo() {
    return arrivedUpTo;
  }

  /** A read landed after the arrival: it is accounted for. */
  void clearArrived() {
    arrivedUpTo = ReadSource.Reading.NOTHING;
  }

  boolean isDone() {
    return marks.isEmpty() && !unstamped;
  }

  // --- stages -----------------------------------------------------------------------------------

  Stage stage() {
    return stage;
  }

  /** A stale read of the target. */
  void stale(long observed, Long upper, V value, long notBefore, boolean failed) {
    attempts++;
    observedMs = Math.max(observedMs, observed);
    if (upper != null && (upperMs == null || upper < upperMs)) {
      upperMs = upper;
    }
    if (value != null) {
      staleValue = value;
    }
    notBeforeMs = notBefore;
    replicaFailed = failed;
    stage = Stage.RETRYING;
  }

  /** After a fresh read, later commits start over at the gate. */
  void restart() {
    stage = Stage.GATED;
    attempts = 0;
    observedMs = 0;
    upperMs = null;
    staleValue = null;
    refused = false;
    replicaFailed = false;
  }

  void watch(Long replayedAtMs) {
    stage = Stage.WATCHING;
    watchedReadAt = replayedAtMs;
  }

  /** Read again while watching: still stale. */
  void stillStale(V value, Long replayedAtMs) {
    if (value != null) {
      staleValue = value;
    }
    watchedReadAt = replayedAtMs;
  }

  int attempts() {
    return attempts;
  }

  long observedMs() {
    return observedMs;
  }

  Long upperMs() {
    return upperMs;
  }

  long notBeforeMs() {
    return notBeforeMs;
  }

  boolean replicaFailed() {
    return replicaFailed;
  }

  V takeStaleValue() {
    V value = staleValue;
    staleValue = null;
    return value;
  }

  boolean refused() {
    return refused;
  }

  void refuse() {
    refused = true;
  }

  boolean readNow() {
    return readNow;
  }

  void readNow(boolean now) {
    readNow = now;
  }

  Long watchedReadAt() {
    return watchedReadAt;
  }
}
