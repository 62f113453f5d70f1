package io.freshet.core;

import io.freshet.producer.ChangeRecord;
import io.freshet.producer.RowImage;
import io.vertx.core.json.JsonObject;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One hydrated run, immutable: the fields routing decisions need, plus every column's value in
 * Electric's text form. The serialized {@code value} object is built once per column set and
 * shared by every feed that receives this row.
 */
public final class RunRow {

  private final String runId;
  private final String envId;
  private final String batchId;
  private final long createdAtMs;
  private final long updatedAtMs;
  private final List<String> tags;
  private final String[] text;
  private final Map<String, String> valueJsonBySignature = new ConcurrentHashMap<>(2);

  /**
   * @param runId the friendly id ({@code run_...}), which feeds and change records use
   * @param text every column's text value, indexed by {@link RunColumn#ordinal()}
   */
  public RunRow(String runId, String envId, String batchId, long createdAtMs, long updatedAtMs, List<String> tags, String[] text) {
    if (text.length != RunColumn.values().length) {
      throw new IllegalArgumentException("expected " + RunColumn.values().length + " column values");
    }
    this.runId = runId;
    this.envId = envId;
    this.batchId = batchId;
    this.createdAtMs = createdAtMs;
    this.updatedAtMs = updatedAtMs;
    this.tags = List.copyOf(tags);
    this.text = text.clone();
  }

  /**
   * The row a change record carries ({@link ChangeRecord#row()}), as the feeds serve it; null when
   * the record cannot stand for a read: no row, no watermark, a partial record (its tags unknown),
   * or an image that lacks a column the feeds serve or whose {@code updatedAt} is not the record's
   * watermark. Such records are read through the gate.
   */
  public static RunRow fromRecord(ChangeRecord record) {
    RowImage image = record.row();
    if (image == null || !record.hasWatermark() || !record.isFull()) {
      return null;
    }
    RunColumn[] columns = RunColumn.values();
    String[] text = new String[columns.length];
    for (RunColumn column : columns) {
      if (!image.columns().containsKey(column.wireName())) {
        return null;
      }
      text[column.ordinal()] = image.columns().get(column.wireName());
    }
    String createdAt = text[RunColumn.CREATED_AT.ordinal()];
    String updatedAt = text[RunColumn.UPDATED_AT.ordinal()];
    if (createdAt == null || updatedAt == null || !record.runId().equals(text[RunColumn.FRIENDLY_ID.ordinal()])) {
      return null;
    }
    try {
      if (PgText.epochMillis(LocalDateTime.parse(updatedAt)) != record.updatedAtMs()) {
        return null;
      }
      return new RunRow(record.runId(), record.envId(), record.batchId(), PgText.epochMillis(LocalDateTime.parse(createdAt)),
          record.updatedAtMs(), record.tags(), text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** This row in a message's wire form (a feed log handed to another node). */
  public void write(io.freshet.core.bus.Wire out) {
    out.string(runId).string(envId).string(batchId).longValue(createdAtMs).longValue(updatedAtMs).strings(tags).strings(Arrays.asList(text));
  }

  public static RunRow read(io.freshet.core.bus.Wire in) {
    return new RunRow(in.string(), in.string(), in.string(), in.longValue(), in.longValue(), in.strings(),
        in.strings().toArray(String[]::new));
  }

  /** This row as a change record carries it: every column by its wire name, in its text form. */
  public RowImage image() {
    LinkedHashMap<String, String> columns = new LinkedHashMap<>();
    for (RunColumn column : RunColumn.values()) {
      columns.put(column.wireName(), text[column.ordinal()]);
    }
    return new RowImage(columns);
  }

  public String runId() {
    return runId;
  }

  public String envId() {
    return envId;
  }

  public String batchId() {
    return batchId;
  }

  public long createdAtMs() {
    return createdAtMs;
  }

  /** The row version: strictly increasing per run (writes set it to max(now, previous + 1 ms)). */
  public long updatedAtMs() {
    return updatedAtMs;
  }

  public List<String> tags() {
    return tags;
  }

  public String text(RunColumn column) {
    return text[column.ordinal()];
  }

  /** True once the run has reached a final status (the SDK closes on a non-null completedAt). */
  public boolean isCompleted() {
    return text(RunColumn.COMPLETED_AT) != null;
  }

  /** The Electric message key; any unique string works, this is trigger.dev's form. */
  public String key() {
    return "\"public\".\"TaskRun\"/\"" + text(RunColumn.ID) + "\"";
  }

  /** The row's {@code value} object as compact JSON, restricted to {@code columns}. */
  public String valueJson(Set<RunColumn> columns) {
    String signature = RunColumn.signature(columns);
    return valueJsonBySignature.computeIfAbsent(signature, s -> {
      JsonObject value = new JsonObject();
      for (RunColumn column : RunColumn.values()) {
        if (columns.contains(column)) {
          value.put(column.wireName(), text[column.ordinal()]);
        }
      }
      return value.encode();
    });
  }

  /** One Electric change message for this row. */
  public String message(Set<RunColumn> columns, boolean insert) {
    return "{\"key\":" + io.vertx.core.json.Json.encode(key())
        + ",\"value\":" + valueJson(columns)
        + ",\"headers\":{\"operation\":\"" + (insert ? "insert" : "update") + "\"}}";
  }

  /**
   * The Electric message for this run leaving a feed (its status left the feed's status filter):
   * clients drop the row with this key. As Electric does, the value carries the primary key only.
   */
  public String deleteMessage() {
    return "{\"key\":" + io.vertx.core.json.Json.encode(key())
        + ",\"value\":{\"id\":" + io.vertx.core.json.Json.encode(text(RunColumn.ID)) + "}"
        + ",\"headers\":{\"operation\":\"delete\"}}";
  }

  @Override
  public String toString() {
    return "RunRow[" + runId + "@" + updatedAtMs + "]";
  }
}
