package io.freshet.store;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnectOptions;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which host of {@code db.primary.uris} is the primary now: the one that is not in recovery. The
 * primary pool asks it for every connection it opens ({@code connectingTo(Supplier)}), so a pool
 * follows a failover by itself: when the old primary goes, its connections close, the next one
 * the pool opens asks here, and the hosts are checked again ({@code SELECT pg_is_in_recovery()} on
 * a short connection of its own, starting with the last primary) until one is writable. While
 * none is (the old primary down, the standby not yet promoted), the connection fails at once with
 * a 503 that the write routes answer with {@code retry-after}: fast, never a 500, and nothing
 * written. A host found writable is trusted for {@link #TRUST_MS} without asking again. When no
 * host answers the check at all (a machine too loaded to answer within {@link #CHECK_TIMEOUT_MS},
 * seen when a node started during a rolling restart on two cores), nothing says the primary moved:
 * the connection goes to the last primary found, or the first host, as if there were one.
 *
 * <p>Thread-safe: the pool is shared by verticles on several event loops.
 */
public final class PrimaryLocator implements Supplier<Future<SqlConnectOptions>> {

  private static final Logger LOG = LoggerFactory.getLogger(PrimaryLocator.class);

  /** How long a host found writable is used without checking again. */
  static final long TRUST_MS = 1000;
  /** A check gives up on a host that does not answer within this. */
  static final int CHECK_TIMEOUT_MS = 5000;

  private final Vertx vertx;
  private final List<PgConnectOptions> hosts;
  private int current = -1;
  private long checkedAtMs;
  private Future<SqlConnectOptions> finding;
  private int switches;

  public PrimaryLocator(Vertx vertx, List<String> uris) {
    if (uris.isEmpty()) {
      throw new IllegalArgumentException("db.primary.uris lists no host");
    }
    this.vertx = vertx;
    this.hosts = uris.stream().map(PgConnectOptions::fromUri).toList();
  }

  /** How often the primary moved to another host since the node started. */
  public synchronized int switches() {
    return switches;
  }

  @Override
  public synchronized Future<SqlConnectOptions> get() {
    if (current >= 0 && System.currentTimeMillis() - checkedAtMs < TRUST_MS) {
      return Future.succeededFuture(hosts.get(current));
    }
    if (finding == null) {
      Future<SqlConnectOptions> search = check(Math.max(0, current), 0, false);
      finding = search;
      search.onComplete(ar -> {
        synchronized (this) {
          finding = null;
        }
      });
    }
    return finding;
  }

  /**
   * Checks the hosts from {@code index} on, wrapping around, {@code tried} of them done;
   * {@code standbySeen}: one of them answered that it is in recovery.
   */
  private Future<SqlConnectOptions> check(int index, int tried, boolean standbySeen) {
    if (tried == hosts.size()) {
      synchronized (this) {
        if (!standbySeen) {
          // No host answered at all (a loaded machine, a network blip): that proves no failover.
          // The connection itself goes to the last primary (or the first host) and succeeds or
          // fails on its own; the next connection checks again.
          return Future.succeededFuture(hosts.get(Math.max(0, current)));
        }
        current = -1;
      }
      return Future.failedFuture(new FreshetException(503, "no primary is writable right now among "
          + hosts.stream().map(PrimaryLocator::endpoint).collect(Collectors.joining(", ")) + " (a failover in progress?); retry shortly"));
    }
    int i = index % hosts.size();
    return PgConnection.connect(vertx, hosts.get(i))
        .compose(conn -> conn.query("SELECT pg_is_in_recovery() AS standby").execute()
            .map(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean("standby")))
            .eventually(() -> conn.close()))
        .timeout(CHECK_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (ar.succeeded() && !ar.result()) {
            found(i);
            return Future.succeededFuture(hosts.get(i));
          }
          return check(i + 1, tried + 1, standbySeen || ar.succeeded());
        });
  }

  private synchronized void found(int i) {
    if (current != i) {
      if (current >= 0 || switches > 0 || checkedAtMs > 0) {
        switches++;
        LOG.warn("the primary is now {} (writes, the heartbeat and the fallback go there)", endpoint(hosts.get(i)));
      } else {
        LOG.info("primary: {}", endpoint(hosts.get(i)));
      }
    }
    current = i;
    checkedAtMs = System.currentTimeMillis();
  }

  private static String endpoint(PgConnectOptions options) {
    return options.getHost() + ":" + options.getPort();
  }
}
