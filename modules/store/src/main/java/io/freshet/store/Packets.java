package io.freshet.store;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Optional;

/** Offloaded payloads and outputs ("packets"), by environment and path, on the primary. */
public final class Packets {

  public record Packet(String contentType, Buffer bytes) {}

  static final String PUT = "INSERT INTO packets (env_id, path, content_type, bytes) VALUES ($1, $2, $3, $4)"
      + " ON CONFLICT (env_id, path) DO UPDATE SET content_type = EXCLUDED.content_type, bytes = EXCLUDED.bytes,"
      + " created_at = now() AT TIME ZONE 'UTC'";
  static final String GET = "SELECT content_type, bytes FROM packets WHERE env_id = $1 AND path = $2";

  private Packets() {}

  /** Stores (or replaces: uploads are retried) the packet at {@code path}. */
  public static Future<Void> put(SqlClient primary, String envId, String path, String contentType, Buffer bytes) {
    return primary.preparedQuery(PUT).execute(Tuple.of(envId, path, contentType, bytes)).mapEmpty();
  }

  public static Future<Optional<Packet>> get(SqlClient primary, String envId, String path) {
    return primary.preparedQuery(GET).execute(Tuple.of(envId, path)).map(rows -> {
      if (rows.size() == 0) {
        return Optional.empty();
      }
      Row row = rows.iterator().next();
      return Optional.of(new Packet(row.getString(0), row.getBuffer(1)));
    });
  }
}
