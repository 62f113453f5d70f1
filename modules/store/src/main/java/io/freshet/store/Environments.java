package io.freshet.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Environments and their secret API keys. */
public final class Environments {

  public record Environment(String id, String slug, String type, String apiKey) {}

  public static final List<String> TYPES = List.of("DEVELOPMENT", "STAGING", "PREVIEW", "PRODUCTION");

  private Environments() {}

  public static Future<Optional<Environment>> byApiKey(SqlClient client, String apiKey) {
    return client.preparedQuery("SELECT id, slug, type, api_key FROM environments WHERE api_key = $1")
        .execute(Tuple.of(apiKey)).map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(map(rows.iterator().next())));
  }

  public static Future<Optional<Environment>> byId(SqlClient client, String id) {
    return client.preparedQuery("SELECT id, slug, type, api_key FROM environments WHERE id = $1")
        .execute(Tuple.of(id)).map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(map(rows.iterator().next())));
  }

  public static Future<List<Environment>> list(SqlClient client) {
    return client.query("SELECT id, slug, type, api_key FROM environments ORDER BY created_at").execute().map(rows -> {
      List<Environment> out = new ArrayList<>();
      rows.forEach(r -> out.add(map(r)));
      return out;
    });
  }

  /** Creates an environment with a fresh secret key; a duplicate slug fails. */
  public static Future<Environment> create(SqlClient client, String slug, String type) {
    String normalizedType = type.toUpperCase(Locale.ROOT);
    if (!TYPES.contains(normalizedType)) {
      return Future.failedFuture(new IllegalArgumentException("environment type must be one of " + TYPES));
    }
    if (!slug.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      return Future.failedFuture(new IllegalArgumentException("environment slug must match [a-z0-9][a-z0-9-]{0,62}"));
    }
    Environment env = new Environment(Ids.environmentId(), slug, normalizedType, Ids.secretKey(normalizedType));
    return client.preparedQuery("INSERT INTO environments (id, slug, type, api_key) VALUES ($1, $2, $3, $4)")
        .execute(Tuple.of(env.id(), env.slug(), env.type(), env.apiKey())).map(r -> env);
  }

  /** The development environment, created on first start. Races between nodes resolve on the slug. */
  public static Future<Environment> ensureDevelopment(SqlClient client) {
    return client.preparedQuery("SELECT id, slug, type, api_key FROM environments WHERE slug = $1").execute(Tuple.of("dev"))
        .compose(rows -> rows.size() > 0
            ? Future.succeededFuture(map(rows.iterator().next()))
            : create(client, "dev", "DEVELOPMENT").recover(e -> client.preparedQuery(
                "SELECT id, slug, type, api_key FROM environments WHERE slug = $1").execute(Tuple.of("dev"))
                .map(again -> map(again.iterator().next()))));
  }

  private static Environment map(Row row) {
    return new Environment(row.getString(0), row.getString(1), row.getString(2), row.getString(3));
  }
}
