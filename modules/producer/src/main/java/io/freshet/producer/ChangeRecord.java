package io.freshet.producer;

import java.util.List;
import java.util.Objects;

/**
 * A small fact: "run {@code runId} in environment {@code envId} changed". Row content is never on
 * the wire; routers hydrate it from the database.
 *
 * <p>{@code updatedAtMs} is the committed row's {@code updatedAt} (epoch milliseconds, from the
 * primary's clock), taken from the write itself. It is the watermark that routers gate replica
 * reads on and check hydrated rows against. It may be {@code null} for producers that do not know
 * it; such records skip the gate and the tripwire.
 *
 * <p>{@code tags} present (even empty) marks a <em>full</em> record that tag feeds can route on;
 * {@code null} marks a <em>partial</em> one, which every tag feed of the environment must hydrate to
 * classify.
 */
public record ChangeRecord(String envId, String runId, Long updatedAtMs, List<String> tags, String batchId) {

  public static final int VERSION = 1;

  public ChangeRecord {
    Objects.requireNonNull(envId, "envId");
    Objects.requireNonNull(runId, "runId");
    tags = tags == null ? null : List.copyOf(tags);
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
