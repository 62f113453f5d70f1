package io.freshet.store;

import io.freshet.core.PgText;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The read side: every query a feed runs, against whichever client it is given (the replica, or
 * the primary in primary-reads mode). Each returns whole rows as {@link RunRow}s.
 */
public final class RunReads {

  static final String COLUMNS = Arrays.stream(RunColumn.values()).map(RunColumn::sqlName).collect(Collectors.joining(", "))
      + ", env_id, batch_id";

  static final String BY_IDS = "SELECT " + COLUMNS + " FROM task_runs WHERE env_id = $1 AND friendly_id = ANY($2)";
  /**
   * A hydrate: the rows, plus (in the same round trip) the commit time of the last transaction the
   * replica has replayed. One row always comes back, so the replay position arrives even when no
   * run matched (the insert race). On a primary the position is null.
   */
  static final String HYDRATE = "SELECT " + prefixed("t") + ", (extract(epoch FROM r.replayed) * 1000)::bigint AS replayed"
      + " FROM (SELECT pg_last_xact_replay_timestamp() AS replayed) r"
      + " LEFT JOIN task_runs t ON t.env_id = $1 AND t.friendly_id = ANY($2)";

  /** Rows a hydrate read, and the replica's replay position then (epoch ms; null on a primary). */
  public record Hydration(List<RunRow> rows, Long replayedAtMs) {}
  static final String BY_TAGS = "SELECT " + COLUMNS + " FROM task_runs"
      + " WHERE env_id = $1 AND run_tags @> $2 AND created_at >= $3"
      + " ORDER BY created_at DESC LIMIT $4";
  /** The same in some statuses: its own statement, so that the planner can use task_runs_env_status_created. */
  static final String BY_TAGS_IN_STATUSES = "SELECT " + COLUMNS + " FROM task_runs"
      + " WHERE env_id = $1 AND run_tags @> $2 AND created_at >= $3 AND status = ANY($5)"
      + " ORDER BY created_at DESC LIMIT $4";
  static final String BY_BATCH = "SELECT " + COLUMNS + " FROM task_runs"
      + " WHERE env_id = $1 AND batch_id = $2 ORDER BY created_at LIMIT $3";
  static final String RUN_EXISTS = "SELECT 1 FROM task_runs WHERE env_id = $1 AND friendly_id = $2";
  static final String RUN_VERSION = "SELECT updated_at FROM task_runs WHERE env_id = $1 AND friendly_id = $2";
  static final String BATCH_EXISTS = "SELECT 1 FROM batches WHERE env_id = $1 AND id = $2";

  private RunReads() {}

  public static Future<List<RunRow>> byIds(SqlClient client, String envId, Collection<String> runIds) {
    return client.preparedQuery(BY_IDS).execute(Tuple.tuple().addString(envId).addArrayOfString(runIds.toArray(String[]::new))).map(RunReads::rows);
  }

  public static Future<Hydration> hydrate(SqlClient client, String envId, Collection<String> runIds) {
    int replayed = RunColumn.values().length + 2;
    return client.preparedQuery(HYDRATE)
        .execute(Tuple.tuple().addString(envId).addArrayOfString(runIds.toArray(String[]::new)))
        .map(result -> {
          List<RunRow> rows = new ArrayList<>();
          Long replayedAtMs = null;
          for (Row row : result) {
            replayedAtMs = row.getLong(replayed);
            if (row.getString(RunColumn.ID.ordinal()) != null) {
              rows.add(toRunRow(row));
            }
          }
          return new Hydration(rows, replayedAtMs);
        });
  }

  /**
   * What a write returns to stand for the read it saves: every column a feed serves, qualified by
   * {@code table}, in the order {@link #toRunRow} maps.
   */
  public static String returning(String table) {
    return prefixed(table);
  }

  private static String prefixed(String alias) {
    return Arrays.stream(COLUMNS.split(", ")).map(c -> alias + "." + c).collect(Collectors.joining(", "));
  }

  /**
   * Runs carrying every tag in {@code tags}, created at or after {@code createdAtFloorMs}, in one of
   * {@code statuses} (any status when empty), newest first.
   */
  public static Future<List<RunRow>> byTags(SqlClient client, String envId, List<String> tags, long createdAtFloorMs,
      List<String> statuses, int limit) {
    LocalDateTime floor = LocalDateTime.ofEpochSecond(Math.floorDiv(createdAtFloorMs, 1000), (int) Math.floorMod(createdAtFloorMs, 1000) * 1_000_000, ZoneOffset.UTC);
    Tuple params = Tuple.tuple().addString(envId).addArrayOfString(tags.toArray(String[]::new)).addLocalDateTime(floor).addInteger(limit);
    if (statuses.isEmpty()) {
      return client.preparedQuery(BY_TAGS).execute(params).map(RunReads::rows);
    }
    return client.preparedQuery(BY_TAGS_IN_STATUSES).execute(params.addArrayOfString(statuses.toArray(String[]::new))).map(RunReads::rows);
  }

  public static Future<List<RunRow>> byBatch(SqlClient client, String envId, String batchId, int limit) {
    return client.preparedQuery(BY_BATCH).execute(Tuple.of(envId, batchId, limit)).map(RunReads::rows);
  }

  public static Future<Boolean> runExists(SqlClient client, String envId, String runId) {
    return client.preparedQuery(RUN_EXISTS).execute(Tuple.of(envId, runId)).map(rows -> rows.size() > 0);
  }

  static final String RUN_VERSIONS = "SELECT friendly_id, updated_at FROM task_runs WHERE env_id = $1 AND friendly_id = ANY($2)";

  /** The runs' {@code updated_at} in epoch ms, by run; runs that do not exist are absent. */
  public static Future<java.util.Map<String, Long>> runVersions(SqlClient client, String envId, Collection<String> runIds) {
    return client.preparedQuery(RUN_VERSIONS).execute(Tuple.tuple().addString(envId).addArrayOfString(runIds.toArray(String[]::new)))
        .map(rows -> {
          java.util.Map<String, Long> out = new java.util.HashMap<>();
          for (Row row : rows) {
            out.put(row.getString(0), PgText.epochMillis(row.getLocalDateTime(1)));
          }
          return out;
        });
  }

  /** The run's {@code updated_at} in epoch ms, or null when it does not exist. */
  public static Future<Long> runVersion(SqlClient client, String envId, String runId) {
    return client.preparedQuery(RUN_VERSION).execute(Tuple.of(envId, runId))
        .map(rows -> rows.size() == 0 ? null : PgText.epochMillis(rows.iterator().next().getLocalDateTime(0)));
  }

  static final String RUN_MEMBERSHIP = "SELECT run_tags, batch_id, task_identifier FROM task_runs WHERE env_id = $1 AND friendly_id = $2";

  /** What a run belongs to, for scopes that grant runs by tag, batch or task. */
  public record RunMembership(List<String> tags, String batchId, String taskIdentifier) {}

  /** The run's tags, batch and task; empty when the environment has no such run. */
  public static Future<java.util.Optional<RunMembership>> membership(SqlClient client, String envId, String runId) {
    return client.preparedQuery(RUN_MEMBERSHIP).execute(Tuple.of(envId, runId)).map(rows -> {
      if (rows.size() == 0) {
        return java.util.Optional.empty();
      }
      Row row = rows.iterator().next();
      String[] tags = row.getArrayOfStrings(0);
      return java.util.Optional.of(new RunMembership(tags == null ? List.of() : List.of(tags), row.getString(1), row.getString(2)));
    });
  }

  public static Future<Boolean> batchExists(SqlClient client, String envId, String batchId) {
    return client.preparedQuery(BATCH_EXISTS).execute(Tuple.of(envId, batchId)).map(rows -> rows.size() > 0);
  }

  static List<RunRow> rows(Iterable<Row> result) {
    List<RunRow> rows = new ArrayList<>();
    for (Row row : result) {
      rows.add(toRunRow(row));
    }
    return rows;
  }

  /** Maps a row selected with {@link #COLUMNS} to its text form. */
  public static RunRow toRunRow(Row row) {
    RunColumn[] columns = RunColumn.values();
    String[] text = new String[columns.length];
    List<String> tags = List.of();
    for (RunColumn column : columns) {
      int i = column.ordinal();
      Object value = row.getValue(i);
      text[i] = switch (column) {
        case CREATED_AT, UPDATED_AT, STARTED_AT, DELAY_UNTIL, QUEUED_AT, EXPIRED_AT, COMPLETED_AT ->
            PgText.timestamp(row.getLocalDateTime(i));
        case NUMBER, USAGE_DURATION_MS -> value == null ? "0" : value.toString();
        case COST_IN_CENTS, BASE_COST_IN_CENTS -> value == null ? "0" : PgText.number(((Number) value).doubleValue());
        case IS_TEST -> PgText.bool(Boolean.TRUE.equals(value));
        case RUN_TAGS, REALTIME_STREAMS -> {
          String[] items = row.getArrayOfStrings(i);
          List<String> list = items == null ? List.of() : Arrays.asList(items);
          if (column == RunColumn.RUN_TAGS) {
            tags = list;
          }
          yield PgText.array(list);
        }
        case ERROR -> value == null ? null : jsonText(value);
        default -> value == null ? null : value.toString();
      };
    }
    return new RunRow(
        row.getString(RunColumn.FRIENDLY_ID.ordinal()),
        row.getString(columns.length),
        row.getString(columns.length + 1),
        PgText.epochMillis(row.getLocalDateTime(RunColumn.CREATED_AT.ordinal())),
        PgText.epochMillis(row.getLocalDateTime(RunColumn.UPDATED_AT.ordinal())),
        tags,
        text);
  }

  private static String jsonText(Object value) {
    if (value instanceof JsonObject obj) {
      return obj.encode();
    }
    if (value instanceof JsonArray arr) {
      return arr.encode();
    }
    if (value instanceof String s) {
      return io.vertx.core.json.Json.encode(s);
    }
    return String.valueOf(value);
  }
}
