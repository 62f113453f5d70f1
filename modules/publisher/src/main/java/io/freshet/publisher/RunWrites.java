package io.freshet.publisher;

import io.freshet.producer.ChangeRecord;
import io.vertx.sqlclient.Row;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

/**
 * SQL fragments every write shares, and the run facts a write returns.
 *
 * <p>Every statement that changes a run ends with {@link #RETURNING}, so the change record's
 * watermark is the committed {@code updated_at} itself, never a second read that another writer
 * could have overtaken.
 */
final class RunWrites {

  private RunWrites() {}

  /** The primary's clock as the UTC {@code timestamp(3)} the schema stores. */
  static final String NOW = "(clock_timestamp() AT TIME ZONE 'utc')::timestamp(3)";

  /**
   * A one-row relation {@code t(now)}: a statement that sets several timestamps reads the clock
   * once, so {@code queued_at = created_at} and {@code completed_at = updated_at} hold exactly.
   */
  static final String CLOCK = "(SELECT " + NOW + " AS now) t";

  /**
   * The next row version. Two writers can commit within the same millisecond, or the clock can step
   * back; taking {@code previous + 1 ms} as a floor keeps a run's version strictly increasing, so a
   * feed that diffs on it never mistakes a newer row for the one it already sent, and the tripwire
   * never sees a fresh row as stale. Under READ COMMITTED a blocked updater re-evaluates this
   * against the row the other writer committed.
   */
  static final String NEXT_UPDATED_AT = "GREATEST(t.now, task_runs.updated_at + interval '1 millisecond')";

  /** What every run write returns: enough for the change record. */
  static final String RETURNING = "friendly_id, updated_at, run_tags, batch_id";

  /** Statuses a run never leaves; each of them has {@code completed_at} set. */
  static final List<String> FINAL_STATUSES = List.of(
      "COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "CANCELED", "EXPIRED",
      "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT", "INTERRUPTED");

  static final String[] FINAL_STATUS_ARRAY = FINAL_STATUSES.toArray(String[]::new);

  static boolean isFinal(String status) {
    return FINAL_STATUSES.contains(status);
  }

  /** The facts of a committed run write, read from its RETURNING clause (columns 0..3). */
  record WrittenRun(String friendlyId, LocalDateTime updatedAt, List<String> tags, String batchId) {

    static WrittenRun from(Row row) {
      String[] tags = row.getArrayOfStrings("run_tags");
      return new WrittenRun(row.getString("friendly_id"), row.getLocalDateTime("updated_at"),
          tags == null ? List.of() : Arrays.asList(tags), row.getString("batch_id"));
    }

    long updatedAtMs() {
      return updatedAt.toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    ChangeRecord toChangeRecord(String envId) {
      return ChangeRecord.of(envId, friendlyId, updatedAtMs(), tags, batchId);
    }
  }
}
