package io.freshet.store;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** Connection pools to the primary and the replica. */
public final class Pools {

  private Pools() {}

  public static Pool create(Vertx vertx, String uri, int size, String name) {
    PgConnectOptions connect = PgConnectOptions.fromUri(uri).setCachePreparedStatements(true).setPipeliningLimit(16);
    PoolOptions pool = new PoolOptions().setMaxSize(size).setName(name).setShared(true).setMaxWaitQueueSize(10_000);
    return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
  }
}
