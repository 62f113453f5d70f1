package io.freshet.server;

import com.hazelcast.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Hazelcast's cluster manager, able to refresh what the event bus believes about who consumes
 * each address.
 *
 * <p>The clustered bus caches, per address it sends or publishes to, the nodes that consume it,
 * and updates that cache only from Hazelcast's entry events on the map of subscriptions
 * ({@code __vertx.subs}); in Vert.x 5.0 its reaction to "registrations lost" is empty. After a
 * member that was cut off merges back (it re-registers its consumers into the merged map while
 * partitions migrate), an event can go missing, and then a node keeps sending as if the merged
 * member had no consumers, for good: in member-cut-off runs with the master frozen, the others
 * never again published to its dashboard, nor its feeds' change records (the cluster never looked
 * whole, 1 run in 2). {@link #refreshRegistrations()} re-reads the map for every address the bus
 * has cached, as the entry event would have; the node runs it a few times after each membership
 * change ({@link ClusterSetup#announceMembershipChanges}).
 */
final class RefreshingClusterManager extends HazelcastClusterManager {

  /** Vert.x's map of subscriptions (vertx-hazelcast's {@code SubsMapHelper}). */
  static final String SUBSCRIPTIONS_MAP = "__vertx.subs";

  private volatile RegistrationListener listener;
  private volatile Vertx vertx;

  RefreshingClusterManager(Config config) {
    super(config);
  }

  @Override
  public void init(Vertx vertx) {
    this.vertx = vertx;
    super.init(vertx);
  }

  @Override
  public void registrationListener(RegistrationListener listener) {
    this.listener = listener;
    super.registrationListener(listener);
  }

  /** The event bus's listener of registration updates (its node selector); null before the bus starts. */
  RegistrationListener busListener() {
    return listener;
  }

  /**
   * Re-reads from the cluster's map the consumers of every address the bus has cached, and hands
   * them to the bus; completes with how many addresses it refreshed.
   */
  Future<Integer> refreshRegistrations() {
    RegistrationListener bus = listener;
    Vertx owner = vertx;
    if (bus == null || owner == null || !isActive()) {
      return Future.succeededFuture(0);
    }
    return owner.<Set<String>>executeBlocking(() -> getHazelcastInstance().<String, Object>getMultiMap(SUBSCRIPTIONS_MAP).keySet(), false)
        .compose(addresses -> {
          List<Future<Void>> refreshed = new ArrayList<>();
          for (String address : addresses) {
            if (bus.wantsUpdatesFor(address)) {
              Promise<List<RegistrationInfo>> registrations = Promise.promise();
              getRegistrations(address, registrations);
              refreshed.add(registrations.future().map(found -> {
                bus.registrationsUpdated(new RegistrationUpdateEvent(address, found));
                return (Void) null;
              }));
            }
          }
          return Future.join(refreshed).map(v -> refreshed.size());
        });
  }
}
