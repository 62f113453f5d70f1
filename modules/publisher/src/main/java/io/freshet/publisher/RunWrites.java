package io.freshet.publisher;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.RunReads;
import io.vertx.sqlclient.Row;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
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

  /**
   * What every run write returns: the whole row as a feed serves it, so the change record can carry
   * what was committed (a router serves it without waiting for a replica to apply it).
   */
  static final String RETURNING = RunReads.returning("task_runs");

  /** Statuses a run never leaves; each of them has {@code completed_at} set. */
  static final List<String> FINAL_STATUSES = List.of(
      "COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "CANCELED", "EXPIRED",
      "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT", "INTERRUPTED");

  static final String[] FINAL_STATUS_ARRAY = FINAL_STATUSES.toArray(String[]::new);

  static boolean isFinal(String status) {
    return FINAL_STATUSES.contains(status);
  }

  /** A committed run write, as its RETURNING clause shows the row. */
  record WrittenRun(RunRow row) {

    static WrittenRun from(Row row) {
      return new WrittenRun(RunReads.toRunRow(row));
    }

    String friendlyId() {
      return row.runId();
    }

    LocalDateTime updatedAt() {
      return LocalDateTime.ofEpochSecond(Math.floorDiv(row.updatedAtMs(), 1000), (int) Math.floorMod(row.updatedAtMs(), 1000) * 1_000_000,
          ZoneOffset.UTC);
    }

    /** The record of this write, carrying the committed row (the publisher drops it when over the size limit). */
    ChangeRecord toChangeRecord(String envId) {
      return ChangeRecord.of(envId, row.runId(), row.updatedAtMs(), row.tags(), row.batchId()).withRow(row.image());
    }
  }
}
