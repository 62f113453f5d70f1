package io.freshet.store;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** Connection pools to the primary and the replica. */
public final class Pools {

  private Pools() {}

  /**
   * The primary pool: to the one host of {@code uris}, or, when there are several, to whichever of
   * them is writable now ({@link PrimaryLocator}), found again after a failover.
   */
  public static Pool primary(Vertx vertx, java.util.List<String> uris, int size, String name) {
    return uris.size() == 1 ? create(vertx, uris.get(0), size, name) : located(vertx, new PrimaryLocator(vertx, uris), size, name);
  }

  /** A pool whose every new connection goes to the host {@code locator} finds writable. */
  public static Pool located(Vertx vertx, PrimaryLocator locator, int size, String name) {
    PoolOptions pool = new PoolOptions().setMaxSize(size).setName(name).setShared(true).setMaxWaitQueueSize(10_000);
    return PgBuilder.pool().with(pool).connectingTo(() -> locator.get().map(o -> new PgConnectOptions(o).setCachePreparedStatements(true).setPipeliningLimit(16)))
        .using(vertx).build();
  }

  public static Pool create(Vertx vertx, String uri, int size, String name) {
    PgConnectOptions connect = PgConnectOptions.fromUri(uri).setCachePreparedStatements(true).setPipeliningLimit(16);
    PoolOptions pool = new PoolOptions().setMaxSize(size).setName(name).setShared(true).setMaxWaitQueueSize(10_000);
    return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
  }
}
