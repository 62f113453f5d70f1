package io.freshet.store;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;

/**
 * One read replica of {@code db.replica.uris}: its place in the list (routers and the lag sampler
 * name it by that), how logs and metrics name it ({@code 1}, {@code 2}, … as {@code scripts/db.sh}
 * numbers its standbys), its host:port, and the node's pool to it.
 */
public record ReplicaPool(int index, String name, String endpoint, Pool pool) {

  /** The host of {@link #endpoint()}. */
  public String host() {
    return endpoint.substring(0, endpoint.lastIndexOf(':'));
  }

  /** One pool per URI, in order; {@code poolSize} connections each. */
  public static List<ReplicaPool> open(Vertx vertx, List<String> uris, int poolSize) {
    List<ReplicaPool> replicas = new ArrayList<>();
    for (int i = 0; i < uris.size(); i++) {
      String name = String.valueOf(i + 1);
      PgConnectOptions options = PgConnectOptions.fromUri(uris.get(i));
      replicas.add(new ReplicaPool(i, name, options.getHost() + ":" + options.getPort(),
          Pools.create(vertx, uris.get(i), poolSize, uris.size() == 1 ? "replica" : "replica-" + name)));
    }
    return List.copyOf(replicas);
  }
}
