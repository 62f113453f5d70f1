package io.freshet.lag;

import io.vertx.core.Future;

/** No replica is configured: feeds read the primary, which never trails itself. */
public final class NoReplicaLagSource implements LagSource {

  private static final Future<Long> ZERO = Future.succeededFuture(0L);

  @Override
  public Future<Long> sample() {
    return ZERO;
  }

  @Override
  public String name() {
    return "none";
  }
}
