package io.freshet.router;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What a feed follows: one run, the runs carrying all of some tags (created after a floor), or the
 * runs of a batch. {@link #mayMatch} routes a change record to candidate feeds before hydration;
 * {@link #matches} decides on the hydrated row.
 */
public sealed interface FeedFilter {

  boolean mayMatch(ChangeRecord record);

  boolean matches(RunRow row);

  JsonObject toJson();

  /**
   * Whether a poll's filter names this feed. A tag feed's createdAt floor is fixed when the feed
   * opens (clients send their window again on every poll), so only the kind and the ids or tags count.
   */
  default boolean sameFeedAs(FeedFilter other) {
    if (this instanceof Tags mine && other instanceof Tags theirs) {
      return java.util.Set.copyOf(mine.tags()).equals(java.util.Set.copyOf(theirs.tags()));
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

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("kind", "run").put("runId", runId);
    }
  }

  /** Electric's {@code runTags @> ARRAY[...]}: the row must carry every tag. No tags follows every run. */
  record Tags(List<String> tags, long createdAtFloorMs) implements FeedFilter {
    public Tags {
      tags = List.copyOf(tags);
    }

    @Override
    public boolean mayMatch(ChangeRecord record) {
      // A partial record (tags unknown) must be hydrated to be classified.
      return !record.isFull() || record.tags().containsAll(tags);
    }

    @Override
    public boolean matches(RunRow row) {
      return row.createdAtMs() >= createdAtFloorMs && row.tags().containsAll(tags);
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("kind", "tags").put("tags", new JsonArray(List.copyOf(tags))).put("createdAtFloorMs", createdAtFloorMs);
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

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("kind", "batch").put("batchId", batchId);
    }
  }

  static FeedFilter fromJson(JsonObject json) {
    return switch (json.getString("kind", "")) {
      case "run" -> new Run(json.getString("runId"));
      case "tags" -> new Tags(json.getJsonArray("tags", new JsonArray()).stream().map(Object::toString).toList(),
          json.getLong("createdAtFloorMs", 0L));
      case "batch" -> new Batch(json.getString("batchId"));
      default -> throw new IllegalArgumentException("unknown feed kind: " + json.getString("kind"));
    };
  }
}
