package io.freshet.core.feed;

import io.freshet.core.bus.Wire;

import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import java.util.List;
import java.util.Set;

/**
 * What a feed follows: one run, the runs carrying all of some tags (created after a floor, in some
 * statuses), or the runs of a batch. {@link #mayMatch} routes a change record to candidate feeds
 * before hydration; {@link #matches} decides on the hydrated row. A row that stops matching (its
 * status left the filter) leaves the feed.
 */
public sealed interface FeedFilter {

  boolean mayMatch(ChangeRecord record);

  boolean matches(RunRow row);

  /**
   * Whether a poll's filter names this feed. A tag feed's createdAt floor is fixed when the feed
   * opens (clients send their window again on every poll), so only the kind, the ids, the tags and
   * the statuses count.
   */
  default boolean sameFeedAs(FeedFilter other) {
    if (this instanceof Tags mine && other instanceof Tags theirs) {
      return Set.copyOf(mine.tags()).equals(Set.copyOf(theirs.tags()))
          && Set.copyOf(mine.statuses()).equals(Set.copyOf(theirs.statuses()));
    }
    return equals(other);
  }

  record Run(String runId) implements FeedFilter {
    @Override
    public boolean mayMatch(ChangeRecord record) {
      return record.runId().equals(runId);
    }

    @Override
    public boolean matches(RunRow row) {
      return row.runId().equals(runId);
    }
  }

  /**
   * Electric's {@code runTags @> ARRAY[...]}: the row must carry every tag (no tags follows every
   * run), be created at or after the floor and, when {@code statuses} is not empty, be in one of them.
   */
  record Tags(List<String> tags, long createdAtFloorMs, List<String> statuses) implements FeedFilter {
    public Tags {
      tags = List.copyOf(tags);
      statuses = List.copyOf(statuses);
    }

    public Tags(List<String> tags, long createdAtFloorMs) {
      this(tags, createdAtFloorMs, List.of());
    }

    @Override
    public boolean mayMatch(ChangeRecord record) {
      // A partial record (tags unknown) must be hydrated to be classified.
      return !record.isFull() || record.tags().containsAll(tags);
    }

    @Override
    public boolean matches(RunRow row) {
      return row.createdAtMs() >= createdAtFloorMs && row.tags().containsAll(tags)
          && (statuses.isEmpty() || statuses.contains(row.text(RunColumn.STATUS)));
    }
  }

  record Batch(String batchId) implements FeedFilter {
    @Override
    public boolean mayMatch(ChangeRecord record) {
      return batchId.equals(record.batchId()) || !record.isFull();
    }

    @Override
    public boolean matches(RunRow row) {
      return batchId.equals(row.batchId());
    }
  }

  static void write(Wire out, FeedFilter filter) {
    if (filter instanceof Run run) {
      out.tag(1).string(run.runId());
    } else if (filter instanceof Tags tags) {
      out.tag(2).strings(tags.tags()).longValue(tags.createdAtFloorMs()).strings(tags.statuses());
    } else {
      out.tag(3).string(((Batch) filter).batchId());
    }
  }

  static FeedFilter read(Wire in) {
    byte kind = in.tag();
    return switch (kind) {
      case 1 -> new Run(in.string());
      case 2 -> new Tags(in.strings(), in.longValue(), in.strings());
      case 3 -> new Batch(in.string());
      default -> throw new IllegalArgumentException("unknown feed filter kind " + kind);
    };
  }
}
