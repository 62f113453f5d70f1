package io.freshet.edge;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fair shares of a node per credential (a public token, or an environment's secret key): how many
 * live connections it holds at once, and how fast it opens feeds. One noisy credential reaches its
 * own limit long before its environment's ({@code realtime.maxConnectionsPerEnv}), so the rest of
 * the environment keeps working. Past a limit: 429 with {@code retry-after}, which the SDK and
 * Electric's client retry with backoff.
 *
 * <p>Kept per node, not across the cluster: a cluster-wide counter per credential would be a
 * distributed object per token ever seen (tokens come and go by the thousand), and a load
 * balancer spreads one client over the nodes anyway, so a credential's cluster-wide share is at
 * most the node's share times the nodes. Shared by the node's web edge instances (thread-safe);
 * an entry is dropped when its credential holds nothing.
 */
public final class CredentialLimits {

  /** A feed-open budget refills over this many seconds: a page that opens its feeds at once is not refused. */
  static final int BURST_SECONDS = 5;
  /** Buckets are swept of idle (full) ones every this many opens. */
  private static final int SWEEP_EVERY = 1024;

  private final int maxPerToken;
  private final int maxPerSecretKey;
  private final double opensPerSecToken;
  private final double opensPerSecSecretKey;
  private final Clock clock;
  private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();
  private final Map<String, TokenBucket> opens = new ConcurrentHashMap<>();
  private final AtomicInteger untilSweep = new AtomicInteger(SWEEP_EVERY);

  CredentialLimits(int maxPerToken, int maxPerSecretKey, double opensPerSecToken, double opensPerSecSecretKey, Clock clock) {
    this.maxPerToken = maxPerToken;
    this.maxPerSecretKey = maxPerSecretKey;
    this.opensPerSecToken = opensPerSecToken;
    this.opensPerSecSecretKey = opensPerSecSecretKey;
    this.clock = clock;
  }

  public static CredentialLimits of(FreshetConfig config, Clock clock) {
    return new CredentialLimits(config.getInt(FreshetConfig.REALTIME_MAX_CONNECTIONS_PER_TOKEN),
        config.getInt(FreshetConfig.REALTIME_MAX_CONNECTIONS_PER_SECRET_KEY), config.getInt(FreshetConfig.REALTIME_FEED_OPENS_PER_SEC_PER_TOKEN),
        config.getInt(FreshetConfig.REALTIME_FEED_OPENS_PER_SEC_PER_SECRET_KEY), clock);
  }

  /** A live-connection slot of the principal's credential, released exactly once by the returned task; 429 past its limit. */
  Runnable acquireConnection(Principal principal) {
    int limit = principal.secret() ? maxPerSecretKey : maxPerToken;
    String credential = principal.credential();
    boolean[] admitted = {false};
    connections.compute(credential, (k, count) -> {
      AtomicInteger held = count == null ? new AtomicInteger() : count;
      if (held.get() < limit) {
        held.incrementAndGet();
        admitted[0] = true;
      }
      return held.get() == 0 ? null : held;
    });
    if (!admitted[0]) {
      throw new FreshetException(429, "too many concurrent realtime connections for this " + kind(principal) + " (limit " + limit
          + " per node, " + (principal.secret() ? "realtime.maxConnectionsPerSecretKey" : "realtime.maxConnectionsPerToken") + ")");
    }
    boolean[] released = {false};
    return () -> {
      synchronized (released) {
        if (released[0]) {
          return;
        }
        released[0] = true;
      }
      connections.computeIfPresent(credential, (k, held) -> held.decrementAndGet() <= 0 ? null : held);
    };
  }

  /** Takes one feed open (offset -1 or now) from the principal's credential; 429 past its rate. */
  void admitFeedOpen(Principal principal) {
    if (untilSweep.decrementAndGet() <= 0) {
      untilSweep.set(SWEEP_EVERY);
      opens.entrySet().removeIf(e -> {
        synchronized (e.getValue()) {
          return e.getValue().full();
        }
      });
    }
    double rate = principal.secret() ? opensPerSecSecretKey : opensPerSecToken;
    TokenBucket bucket = opens.computeIfAbsent(principal.credential(), k -> new TokenBucket(rate, rate * BURST_SECONDS, clock));
    boolean taken;
    synchronized (bucket) {
      taken = bucket.tryTake();
    }
    if (!taken) {
      throw new FreshetException(429, "too many feed opens for this " + kind(principal) + " (" + (int) rate + " a second per node, "
          + (principal.secret() ? "realtime.feedOpensPerSecPerSecretKey" : "realtime.feedOpensPerSecPerToken") + "); retry shortly");
    }
  }

  /** Live connections a credential holds on this node (tests, metrics). */
  int connectionsOf(String credential) {
    AtomicInteger held = connections.get(credential);
    return held == null ? 0 : held.get();
  }

  int credentialsHolding() {
    return connections.size();
  }

  private static String kind(Principal principal) {
    return principal.secret() ? "secret key" : "public access token";
  }
}
