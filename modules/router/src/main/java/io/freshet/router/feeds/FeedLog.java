package io.freshet.router.feeds;

import io.freshet.core.feed.FeedProtocol;

import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.LogSlice;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The log of one feed, shared by every client that follows the same filter with the same columns in
 * one environment: one diff and one encoding of each change, whatever the number of subscribers.
 *
 * <p>Rows are {@linkplain #offer offered} (the hydrates of the environment's pipeline, backstop
 * reads) and kept if they are newer than what the log holds; {@link #commit} turns what was offered
 * into the next entry, whose offset is the log's new sequence number. A client's position is an
 * offset, so clients at the same offset get the same {@link LogSlice} (byte-identical responses).
 * The log keeps the current working set (each run's newest row) and its last {@code retention}
 * entries: a client behind by a few entries gets exactly what it missed (compacted to one message
 * per run); one behind the retention must refetch; a late joiner's snapshot is the working set,
 * with no read at all.
 *
 * <p>Not thread-safe: a log lives on its router's event loop.
 */
final class FeedLog {

  enum Op { INSERT, UPDATE, DELETE }

  /** One run's change in one entry. */
  private record Change(String runId, Op op, RunRow row) {}

  private record Entry(long seq, List<Change> changes, LogSlice slice) {}

  /** Where a client's offset falls. */
  sealed interface Position permits Current, Behind, TooOld, Ahead {}

  /** At the end of the log: nothing to send yet. */
  record Current() implements Position {}

  /** Behind by some entries, all retained: the slice brings it to the end. */
  record Behind(LogSlice slice) implements Position {}

  /** Behind the retention: its working set can no longer be rebuilt. */
  record TooOld() implements Position {}

  /** An offset this log never issued. */
  record Ahead() implements Position {}

  private static final Current CURRENT = new Current();

  final String handle;
  final String envId;
  final FeedFilter filter;
  final Set<RunColumn> columns;
  private final int retention;

  private final Map<String, RunRow> current = new HashMap<>();
  /**
   * The version at which each recent run left the log (its status left a status filter): a read
   * that lags behind that version (a backstop or a snapshot from the replica, while a row that came
   * with its record or from the primary already moved the run out) must not bring the older row
   * back in. The oldest are forgotten past {@link #MAX_LEFT}; a run that left longer ago than a
   * replica lags is not at risk.
   */
  private final LinkedHashMap<String, Long> left = new LinkedHashMap<>();
  static final int MAX_LEFT = 256;
  /** Offered since the last commit: the row to upsert, or the row that no longer matches. */
  private final Map<String, RunRow> staged = new LinkedHashMap<>();
  private final ArrayDeque<Entry> entries = new ArrayDeque<>();
  /** Answers for offsets behind the end, valid until the next commit. */
  private final Map<Long, LogSlice> behindCache = new HashMap<>();
  private LogSlice snapshotCache;
  private long seq;
  /** The oldest offset a client can resume from. */
  private long baseSeq;

  FeedLog(String handle, String envId, FeedFilter filter, Set<RunColumn> columns, int retention) {
    this.handle = handle;
    this.envId = envId;
    this.filter = filter;
    this.columns = Set.copyOf(columns);
    this.retention = Math.max(1, retention);
  }

  /**
   * A log another node handed over ({@link FeedProtocol.Handover}): the same handle, its working
   * set at {@code seq}, and where recent runs left it. It keeps no entries from before: a client at
   * {@code seq} goes on, one behind it refetches.
   */
  static FeedLog adopted(FeedProtocol.Handover handover, int retention) {
    FeedProtocol.FeedRef feed = handover.feed();
    FeedLog log = new FeedLog(handover.handle(), feed.envId(), feed.filter(), feed.columns(), retention);
    handover.rows().forEach(row -> log.current.put(row.runId(), row));
    handover.left().entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> log.left.put(e.getKey(), e.getValue()));
    for (FeedProtocol.HandedEntry handed : handover.entries()) {
      List<Change> changes = new ArrayList<>(handed.rows().size());
      for (int i = 0; i < handed.rows().size(); i++) {
        RunRow row = handed.rows().get(i);
        changes.add(new Change(row.runId(), Op.valueOf(handed.ops().get(i)), row));
      }
      log.entries.addLast(new Entry(handed.seq(), changes, LogSlice.of(handed.seq() - 1, handed.seq(), log.messages(changes))));
    }
    log.seq = handover.seq();
    log.baseSeq = log.entries.isEmpty() ? handover.seq() : log.entries.getFirst().seq() - 1;
    return log;
  }

  /**
   * The newest entries a handed-over log takes along: enough for a client a push or two behind (a
   * push on its way when the log moved). All of them would cost the adopting node a few hundred
   * milliseconds of CPU per hundred logs in the middle of a rolling restart, when it also takes
   * the stopping node's traffic; a client further behind refetches.
   */
  static final int HANDED_ENTRIES = 8;

  /**
   * This log as a stopping node hands it over: its working set at its current offset and its
   * newest retained entries (commit what was offered first).
   */
  FeedProtocol.Handover handover(java.util.Collection<String> sinks) {
    List<FeedProtocol.HandedEntry> handed = new ArrayList<>(HANDED_ENTRIES);
    int skip = Math.max(0, entries.size() - HANDED_ENTRIES);
    for (Entry entry : entries) {
      if (skip-- > 0) {
        continue;
      }
      handed.add(new FeedProtocol.HandedEntry(entry.seq(), entry.changes().stream().map(c -> c.op().name()).toList(),
          entry.changes().stream().map(Change::row).toList()));
    }
    return new FeedProtocol.Handover(handle, new FeedProtocol.FeedRef(envId, filter, columns), seq, List.copyOf(current.values()),
        Map.copyOf(left), handed, List.copyOf(sinks));
  }

  long seq() {
    return seq;
  }

  int size() {
    return current.size();
  }

  /** The newest version of {@code runId} the log holds, has staged, or saw it leave at; or -1. */
  long version(String runId) {
    RunRow staging = staged.get(runId);
    if (staging != null) {
      return staging.updatedAtMs();
    }
    RunRow row = current.get(runId);
    if (row != null) {
      return row.updatedAtMs();
    }
    Long leftAt = left.get(runId);
    return leftAt == null ? -1 : leftAt;
  }

  boolean contains(String runId) {
    return current.containsKey(runId);
  }

  Collection<String> runs() {
    return current.keySet();
  }

  /**
   * Keeps {@code row} for the next commit if it is newer than what the log holds: as an upsert when
   * the log's filter matches it, as the run leaving the log when it no longer does (a status that
   * left a status filter). An older row, which a lagging read may return after a newer one was read
   * from the primary, is dropped: a log never moves backwards.
   *
   * @return whether the next commit will carry something for this run
   */
  boolean offer(RunRow row) {
    if (row.updatedAtMs() <= version(row.runId())) {
      return false;
    }
    if (filter.matches(row)) {
      staged.put(row.runId(), row);
      return true;
    }
    if (current.containsKey(row.runId()) || staged.containsKey(row.runId())) {
      staged.put(row.runId(), row); // leaves the log
      return true;
    }
    leftAt(row); // never shown here, but an older version that matches must not come in after it
    return false;
  }

  /** Remembers that {@code row}'s run is out of the log at its version (the last {@link #MAX_LEFT} runs). */
  private void leftAt(RunRow row) {
    left.remove(row.runId());
    left.put(row.runId(), row.updatedAtMs());
    if (left.size() > MAX_LEFT) {
      left.remove(left.keySet().iterator().next());
    }
  }

  boolean hasStaged() {
    return !staged.isEmpty();
  }

  /**
   * Appends what was offered as the next entry and returns its slice (from the previous end to the
   * new one), or null when nothing was offered. {@code force} appends even an empty entry: a new
   * log's first commit, so that every log's first offset is 1.
   */
  LogSlice commit(boolean force) {
    if (staged.isEmpty() && !(force && seq == 0)) {
      return null;
    }
    List<Change> changes = new ArrayList<>(staged.size());
    for (RunRow row : staged.values()) {
      boolean had = current.containsKey(row.runId());
      if (filter.matches(row)) {
        changes.add(new Change(row.runId(), had ? Op.UPDATE : Op.INSERT, row));
        current.put(row.runId(), row);
        left.remove(row.runId());
      } else {
        if (had) {
          changes.add(new Change(row.runId(), Op.DELETE, row));
          current.remove(row.runId());
        }
        leftAt(row); // left, or entered and left between two commits
      }
    }
    staged.clear();
    if (changes.isEmpty() && !(force && seq == 0)) {
      // Every staged row left without having been shown (it entered and left the filter between
      // two commits): an empty entry would answer the held polls early with an empty up-to-date.
      return null;
    }
    changes.sort(Comparator.comparingLong(c -> c.row().updatedAtMs()));
    seq++;
    LogSlice slice = LogSlice.of(seq - 1, seq, messages(changes));
    entries.addLast(new Entry(seq, changes, slice));
    while (entries.size() > retention) {
      entries.removeFirst();
    }
    baseSeq = entries.getFirst().seq() - 1;
    behindCache.clear();
    snapshotCache = null;
    return slice;
  }

  /** Where {@code offset} falls, with what brings a client there to the end. */
  Position at(long offset) {
    if (offset > seq) {
      return new Ahead();
    }
    if (offset == seq) {
      return CURRENT;
    }
    if (offset < baseSeq) {
      return new TooOld();
    }
    if (offset == seq - 1) {
      return new Behind(entries.getLast().slice());
    }
    return new Behind(behindCache.computeIfAbsent(offset, this::compacted));
  }

  /** Every run the log holds, as inserts, at the current offset: a new client's snapshot. */
  LogSlice snapshot() {
    if (snapshotCache == null) {
      List<RunRow> rows = new ArrayList<>(current.values());
      rows.sort(Comparator.comparingLong(RunRow::updatedAtMs));
      List<String> messages = new ArrayList<>(rows.size());
      for (RunRow row : rows) {
        messages.add(row.message(columns, true));
      }
      snapshotCache = LogSlice.of(-1, seq, messages);
    }
    return snapshotCache;
  }

  /**
   * Entries after {@code offset}, one message per run: a run the client did not hold at its offset
   * arrives as an insert (or not at all if it came and left), one it held as an update or a delete.
   */
  private LogSlice compacted(long offset) {
    Map<String, Op> first = new LinkedHashMap<>();
    Map<String, Change> last = new HashMap<>();
    for (Entry entry : entries) {
      if (entry.seq() <= offset) {
        continue;
      }
      for (Change change : entry.changes()) {
        first.putIfAbsent(change.runId(), change.op());
        last.put(change.runId(), change);
      }
    }
    List<Change> out = new ArrayList<>();
    first.forEach((run, firstOp) -> {
      boolean held = firstOp != Op.INSERT;
      Change latest = last.get(run);
      boolean present = latest.op() != Op.DELETE;
      if (held && present) {
        out.add(new Change(run, Op.UPDATE, latest.row()));
      } else if (held) {
        out.add(new Change(run, Op.DELETE, latest.row()));
      } else if (present) {
        out.add(new Change(run, Op.INSERT, latest.row()));
      }
    });
    out.sort(Comparator.comparingLong(c -> c.row().updatedAtMs()));
    return LogSlice.of(offset, seq, messages(out));
  }

  private List<String> messages(List<Change> changes) {
    List<String> messages = new ArrayList<>(changes.size());
    for (Change change : changes) {
      messages.add(change.op() == Op.DELETE ? change.row().deleteMessage() : change.row().message(columns, change.op() == Op.INSERT));
    }
    return messages;
  }
}
