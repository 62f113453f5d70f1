package io.freshet.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned schema migrations, applied by every node at start-up on the primary. An advisory lock
 * serialises nodes that start together; each migration runs in the same transaction as its
 * bookkeeping row, so a failed one leaves nothing half-applied.
 */
public final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  /** In order. A released migration is never edited: add a new one. */
  static final List<String> FILES = List.of("V001__init.sql", "V002__heartbeat.sql", "V003__idempotency_ttl.sql", "V004__status_index.sql",
      "V005__packets.sql", "V006__realtime_streams.sql");

  private static final long LOCK_KEY = 0x46_52_45_53_48_45_54L; // "FRESHET"

  private Migrations() {}

  public static Future<Integer> apply(Pool primary) {
    return primary.withTransaction(tx -> tx.query("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")").execute()
        // "already exists, skipping" notices would otherwise be logged as warnings on every start.
        .compose(v -> tx.query("SET LOCAL client_min_messages = warning").execute())
        .compose(v -> tx.query("CREATE TABLE IF NOT EXISTS schema_migrations ("
            + "version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())").execute())
        .compose(v -> tx.query("SELECT version FROM schema_migrations").execute())
        .compose(rows -> {
          Set<Integer> applied = new HashSet<>();
          for (Row row : rows) {
            applied.add(row.getInteger(0));
          }
          Future<Integer> chain = Future.succeededFuture(0);
          for (String file : FILES) {
            int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
            if (applied.contains(version)) {
              continue;
            }
            chain = chain.compose(count -> tx.query(read(file)).execute()
                .compose(r -> tx.preparedQuery("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                    .execute(Tuple.of(version, file)))
                .map(r -> {
                  log.info("applied migration {}", file);
                  return count + 1;
                }));
          }
          return chain;
        }));
  }

  private static String read(String file) {
    try (InputStream in = Migrations.class.getResourceAsStream("/db/migration/" + file)) {
      if (in == null) {
        throw new IllegalStateException("missing migration resource " + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
