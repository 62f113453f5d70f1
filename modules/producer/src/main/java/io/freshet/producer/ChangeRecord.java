package io.freshet.producer;

import java.util.List;
import java.util.Objects;

/**
 * A small fact: "run {@code runId} in environment {@code envId} changed", and optionally what it
 * changed to ({@code row}). Without a row, routers read the run from a replica once the replica
 * has applied the change; with one, they serve it at once.
 *
 * <p>{@code updatedAtMs} is the committed row's {@code updatedAt} (epoch milliseconds, from the
 * primary's clock), taken from the write itself. It is the watermark that routers gate replica
 * reads on and check hydrated rows against. It may be {@code null} for producers that do not know
 * it; such records skip the gate and the tripwire.
 *
 * <p>{@code tags} present (even empty) marks a <em>full</em> record that tag feeds can route on;
 * {@code null} marks a <em>partial</em> one, which every tag feed of the environment must hydrate to
 * classify.
 *
 * <p>{@code row}, when present, is the run as the write committed it ({@link RowImage}); it must
 * be the version {@code updatedAtMs} names. Records without one stay valid everywhere.
 */
public record ChangeRecord(String envId, String runId, Long updatedAtMs, List<String> tags, String batchId, RowImage row) {

  public ChangeRecord {
    Objects.requireNonNull(envId, "envId");
    Objects.requireNonNull(runId, "runId");
    tags = tags == null ? null : List.copyOf(tags);
  }

  /** A record without the row (routers read it from the replica). */
  public ChangeRecord(String envId, String runId, Long updatedAtMs, List<String> tags, String batchId) {
    this(envId, runId, updatedAtMs, tags, batchId, null);
  }

  /** The same record carrying the committed row. */
  public ChangeRecord withRow(RowImage image) {
    return new ChangeRecord(envId, runId, updatedAtMs, tags, batchId, image);
  }

  /** This record, without its row when the row is larger than {@code maxBytes} (0: never a row). */
  public ChangeRecord withRowUpTo(int maxBytes) {
    return row == null || maxBytes > 0 && row.sizeBytes() <= maxBytes ? this : withRow(null);
  }

  public boolean hasRow() {
    return row != null;
  }

  /** A record for a run whose tags and batch are known. */
  public static ChangeRecord of(String envId, String runId, long updatedAtMs, List<String> tags, String batchId) {
    return new ChangeRecord(envId, runId, updatedAtMs, tags, batchId);
  }

  public boolean hasWatermark() {
    return updatedAtMs != null;
  }

  public boolean isFull() {
    return tags != null;
  }
}
