package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.write.RunTags;
import io.freshet.core.write.WriteCommand.AddTags;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.producer.ChangeRecord;
import io.freshet.publisher.RunWrites.WrittenRun;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** Adds tags to a run; the change record carries the new tag set so tag feeds can route on it. */
final class TagWrites {

  static final String READ = "SELECT run_tags FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  /** Appends only if the tags are still those read, so two racing calls cannot push a run past the limit. */
  static final String APPEND = "UPDATE task_runs SET run_tags = run_tags || $3::text[],"
      + " updated_at = " + RunWrites.NEXT_UPDATED_AT
      + " FROM " + RunWrites.CLOCK
      + " WHERE env_id = $1 AND friendly_id = $2 AND run_tags = $4::text[]"
      + " RETURNING " + RunWrites.RETURNING;

  private final Pool primary;
  private final Consumer<ChangeRecord> publish;
  private final int maxTags;

  TagWrites(Pool primary, Consumer<ChangeRecord> publish, int maxTags) {
    this.primary = primary;
    this.publish = publish;
    this.maxTags = maxTags;
  }

  /** Adds the tags the run does not have yet; 422 when they would take it past {@code publisher.maxTags}. */
  Future<TagsAdded> add(AddTags command) {
    return add(command.envId(), command.runId(), command.tags(), 1);
  }

  private Future<TagsAdded> add(String envId, String runId, List<String> requested, int attempt) {
    return primary.preparedQuery(READ).execute(Tuple.of(envId, runId)).compose(rows -> {
      if (rows.size() == 0) {
        throw FreshetException.notFound("Run not found");
      }
      String[] stored = rows.iterator().next().getArrayOfStrings(0);
      List<String> existing = stored == null ? List.of() : Arrays.asList(stored);
      List<String> fresh = new ArrayList<>();
      for (String tag : requested) {
        if (!existing.contains(tag)) {
          fresh.add(tag);
        }
      }
      if (fresh.isEmpty()) {
        return Future.succeededFuture(new TagsAdded(0));
      }
      if (existing.size() + fresh.size() > maxTags) {
        throw RunTags.tooMany(maxTags, existing.size() + fresh.size());
      }
      Tuple params = Tuple.of(envId, runId, fresh.toArray(String[]::new), existing.toArray(String[]::new));
      return primary.preparedQuery(APPEND).execute(params).compose(updated -> {
        if (updated.size() == 0) {
          if (attempt >= MetadataUpdates.MAX_ATTEMPTS) {
            return Future.failedFuture(new FreshetException(503, "Tags are being updated concurrently; retry"));
          }
          return add(envId, runId, requested, attempt + 1);
        }
        WrittenRun written = WrittenRun.from(updated.iterator().next());
        publish.accept(written.toChangeRecord(envId));
        return Future.succeededFuture(new TagsAdded(fresh.size()));
      });
    });
  }
}
