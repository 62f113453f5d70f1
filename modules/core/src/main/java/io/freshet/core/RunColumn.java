package io.freshet.core;

import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The columns of a run as realtime clients read them: the wire name (trigger.dev's {@code TaskRun}
 * column), the SQL column it comes from, and its Electric type. trigger.dev's client parses values
 * by these types, so numbers and booleans are never null and arrays are Postgres literals.
 */
public enum RunColumn {
  ID("id", "id", "text", true),
  TASK_IDENTIFIER("taskIdentifier", "task_identifier", "text", true),
  CREATED_AT("createdAt", "created_at", "timestamp", true),
  UPDATED_AT("updatedAt", "updated_at", "timestamp", true),
  STARTED_AT("startedAt", "started_at", "timestamp", false),
  DELAY_UNTIL("delayUntil", "delay_until", "timestamp", false),
  QUEUED_AT("queuedAt", "queued_at", "timestamp", false),
  EXPIRED_AT("expiredAt", "expired_at", "timestamp", false),
  COMPLETED_AT("completedAt", "completed_at", "timestamp", false),
  FRIENDLY_ID("friendlyId", "friendly_id", "text", true),
  NUMBER("number", "number", "int4", false),
  IS_TEST("isTest", "is_test", "bool", false),
  STATUS("status", "status", "text", true),
  USAGE_DURATION_MS("usageDurationMs", "usage_duration_ms", "int4", false),
  COST_IN_CENTS("costInCents", "cost_in_cents", "float8", false),
  BASE_COST_IN_CENTS("baseCostInCents", "base_cost_in_cents", "float8", false),
  TTL("ttl", "ttl", "text", false),
  IDEMPOTENCY_KEY("idempotencyKey", "idempotency_key", "text", false),
  PAYLOAD("payload", "payload", "text", false),
  PAYLOAD_TYPE("payloadType", "payload_type", "text", false),
  METADATA("metadata", "metadata", "text", false),
  METADATA_TYPE("metadataType", "metadata_type", "text", false),
  OUTPUT("output", "output", "text", false),
  OUTPUT_TYPE("outputType", "output_type", "text", false),
  RUN_TAGS("runTags", "run_tags", "text[]", false),
  ERROR("error", "error", "jsonb", false),
  REALTIME_STREAMS("realtimeStreams", "realtime_streams", "text[]", false);

  private static final Map<String, RunColumn> BY_WIRE_NAME =
      java.util.Arrays.stream(values()).collect(Collectors.toMap(RunColumn::wireName, Function.identity()));
  private static final Map<Set<RunColumn>, String> SCHEMAS = new ConcurrentHashMap<>();

  private final String wireName;
  private final String sqlName;
  private final String type;
  private final boolean reserved;

  RunColumn(String wireName, String sqlName, String type, boolean reserved) {
    this.wireName = wireName;
    this.sqlName = sqlName;
    this.type = type;
    this.reserved = reserved;
  }

  public String wireName() {
    return wireName;
  }

  public String sqlName() {
    return sqlName;
  }

  /** Columns a client may not skip: the SDK's row schema requires them. */
  public boolean reserved() {
    return reserved;
  }

  public static final Set<RunColumn> ALL = Set.copyOf(EnumSet.allOf(RunColumn.class));

  /**
   * The columns left after {@code skipColumns} (wire names). Reserved columns stay; an unknown
   * name is ignored.
   */
  public static Set<RunColumn> selecting(Collection<String> skipColumns) {
    EnumSet<RunColumn> columns = EnumSet.allOf(RunColumn.class);
    for (String name : skipColumns) {
      String trimmed = name.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      RunColumn column = BY_WIRE_NAME.get(trimmed);
      // An unknown name skips nothing, as trigger.dev's server treats it (it filters its column
      // list by the names). A 400 here silently ended SDK subscriptions that named a column an
      // older or newer server does not have.
      if (column != null && !column.reserved) {
        columns.remove(column);
      }
    }
    return Set.copyOf(columns);
  }

  /** The {@code electric-schema} header value for a column set: compact single-line JSON. */
  public static String schemaHeader(Set<RunColumn> columns) {
    return SCHEMAS.computeIfAbsent(columns, cols -> {
      JsonObject schema = new JsonObject();
      for (RunColumn column : values()) {
        if (!cols.contains(column)) {
          continue;
        }
        JsonObject type = new JsonObject();
        if (column.type.endsWith("[]")) {
          type.put("type", column.type.substring(0, column.type.length() - 2)).put("dims", 1);
        } else {
          type.put("type", column.type);
        }
        if (column == ID || column == FRIENDLY_ID) {
          type.put("not_null", true);
        }
        schema.put(column.wireName, type);
      }
      return schema.encode();
    });
  }

  /** A stable short signature of a column set, to share serialized rows between feeds. */
  public static String signature(Set<RunColumn> columns) {
    if (columns.size() == values().length) {
      return "*";
    }
    return columns.stream().sorted().map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(","));
  }

  public static List<RunColumn> inOrder() {
    return List.of(values());
  }
}
