package io.freshet.edge;

import io.freshet.core.bus.NodeAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Feed logs a stopping node handed to another ({@code RouterVerticle}'s handover), as the edge
 * finds them: the cluster-wide map {@link NodeAddresses#MOVED_FEEDS_MAP} from handle to the router
 * that serves it now, asked only when a log's owner answers 409 (it no longer has the log, or its
 * node is gone), and remembered here so the client's next polls go straight to the new owner.
 * One per web edge instance, on its event loop.
 */
final class MovedFeeds {

  private static final int MAX_CACHED = 10_000;

  private final Vertx vertx;
  private final Map<String, String> cached = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_CACHED;
    }
  };

  MovedFeeds(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Where {@code handle} is served, as last found here, or {@code otherwise}. */
  String owner(String handle, String otherwise) {
    return cached.getOrDefault(handle, otherwise);
  }

  /** The router that serves {@code handle} now if it was handed over (and not to one of {@code tried}); null otherwise. */
  Future<String> find(String handle, Set<String> tried) {
    return vertx.sharedData().<String, String>getAsyncMap(NodeAddresses.MOVED_FEEDS_MAP)
        .compose(map -> map.get(handle))
        .map(router -> {
          if (router == null || tried.contains(router)) {
            return null;
          }
          cached.put(handle, router);
          return router;
        })
        .recover(e -> Future.succeededFuture(null));
  }
}
