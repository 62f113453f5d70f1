package io.freshet.lag;

import java.util.Locale;

/**
 * Which rows of {@code aurora_replica_status()} are one replica's lag ({@code lag.auroraRows}).
 *
 * <p>The function lists every reader of the cluster, whichever instance it is called on. A replica
 * URI that names one instance (an instance endpoint) has a lag of its own: that instance's row,
 * found with {@code aurora_db_instance_identifier()}. A URI that names a balancer (the reader
 * endpoint, a custom endpoint, RDS Proxy) reaches several readers, one per connection, and only the
 * slowest reader's lag is safe for it.
 */
public enum AuroraRows {
  /** The row of the instance the replica's connections reach. */
  OWN,
  /** The largest reader lag: safe behind any balancer. */
  SLOWEST,
  /** {@link #OWN} for an Aurora instance endpoint, {@link #SLOWEST} for anything else. */
  AUTO;

  public static AuroraRows parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("lag.auroraRows must be own, slowest or auto, not " + value);
    }
  }

  /**
   * What this choice means for a replica at {@code host}. {@link #AUTO} trusts only the names Aurora
   * gives its instance endpoints ({@code NAME.ID.REGION.rds.amazonaws.com}, {@code .com.cn} in China); its cluster, reader
   * and custom endpoints carry {@code .cluster-} and RDS Proxy's carry {@code .proxy-}, and any other
   * name (an IP, a DNS alias, a pgbouncer) may hide a balancer, so it gets the slowest reader's lag.
   */
  public AuroraRows forHost(String host) {
    if (this != AUTO) {
      return this;
    }
    String name = host.toLowerCase(Locale.ROOT);
    boolean aurora = name.endsWith(".rds.amazonaws.com") || name.endsWith(".rds.amazonaws.com.cn");
    boolean instanceEndpoint = aurora && !name.contains(".cluster-") && !name.contains(".proxy-");
    return instanceEndpoint ? OWN : SLOWEST;
  }
}
