package io.freshet.core.bus;

/**
 * Every event-bus address a Freshet node uses, built in one place, except the one an embedding app
 * needs ({@code io.freshet.producer.Addresses#envChanges}, in the producer library).
 *
 * <p>Cluster-wide: engine transitions, each router's feed address (a poll that lands on another
 * node than the one owning its log is forwarded there), each web edge instance's sink (the pushes
 * of the logs its SSE sessions follow), stream announcements, heartbeats and their demand, and the
 * dashboard's stats collect.
 *
 * <p>Node-local: the lag sampler's estimate, evidence, touches and state, the publisher's command
 * queue and stream appends, the stream router, and membership changes.
 */
public final class NodeAddresses {

  private NodeAddresses() {}

  /** Where an embedded engine sends run status transitions (clustered, request-reply, JSON: see docs/api.md). */
  public static String engineTransitions() {
    return "freshet.engine.transitions";
  }

  /** Write commands from the HTTP edge to the publisher ({@link io.freshet.core.write.WriteCommand}s; node-local, request-reply). */
  public static String publisherCommands() {
    return "freshet.publisher.commands";
  }

  /** One router instance's feed address (clustered, request-reply). */
  public static String router(String nodeId, int index) {
    return "freshet.router." + nodeId + "." + index;
  }

  /**
   * Where a stopping node hands its feed logs (clustered, request-reply: a
   * {@link io.freshet.core.feed.FeedProtocol.Handover}, answered with
   * {@link io.freshet.core.feed.FeedProtocol.Adopted}); every router of every node that is not
   * stopping listens, and the bus picks one.
   */
  public static String feedAdoptions() {
    return "freshet.feeds.adopt";
  }

  /** Asks one router of this node to hand its feed logs to the others (node-local, request-reply; the reply says how many). */
  public static String routerHandOver(String nodeId, int index) {
    return "freshet.router." + nodeId + "." + index + ".handover";
  }

  /**
   * The cluster-wide map (a Vert.x shared-data async map) from the handle of a feed log that was
   * handed over to the router address that serves it now: a poll whose owner is gone looks there
   * before answering 409.
   */
  public static final String MOVED_FEEDS_MAP = "freshet.moved-feeds";

  /**
   * One web edge instance's sink (clustered): the routers that own the logs its SSE sessions
   * follow push their growth here, one message per delivery round.
   */
  public static String sink(String nodeId, int webIndex) {
    return "freshet.sink." + nodeId + "." + webIndex;
  }

  /**
   * The cluster's membership changed as this node sees it (a member joined or left, or this node
   * merged back after being cut off), published by the node (node-local): records published
   * across the change may have been lost, so routers re-read their feeds.
   */
  public static String membershipChanged() {
    return "freshet.cluster.membership";
  }

  /** The lag sampler's current {@link io.freshet.core.lag.Estimate}, published whenever it changes (node-local). */
  public static String lagEstimate() {
    return "freshet.lag.estimate";
  }

  /** What routers learned about the replica's lag ({@link io.freshet.core.lag.Evidence}); the reply is an {@link io.freshet.core.lag.Estimate} (node-local). */
  public static String lagEvidence() {
    return "freshet.lag.evidence";
  }

  /** {@link io.freshet.core.lag.Heartbeat}s the cluster's writer wrote on the primary, for every node's probe to time (clustered). */
  public static String lagHeartbeats() {
    return "freshet.lag.heartbeats";
  }

  /** Nodes with active feeds ask the cluster's heartbeat writer to keep writing ({@link io.freshet.core.lag.HeartbeatDemand}, clustered). */
  public static String lagHeartbeatDemand() {
    return "freshet.lag.heartbeat.demand";
  }

  /** The sampler's view of the replica, for /health and the dashboard (node-local, request-reply: a {@link io.freshet.core.lag.LagState}). */
  public static String lagState() {
    return "freshet.lag.state";
  }

  /** Routers announce that feeds are active so the sampler keeps sampling ({@link io.freshet.core.lag.Touch}, node-local). */
  public static String lagTouch() {
    return "freshet.lag.touch";
  }

  /**
   * Every node's stats collector (clustered, published): a collect names where to answer, and each
   * node sends its figures there. The dashboard gathers the cluster this way.
   */
  public static String statsCollect() {
    return "freshet.stats.collect";
  }

  /**
   * Where the writer side announces an environment's stream commits (clustered, published): the
   * last seq of each stream it appended to or closed, with the commit's watermark.
   */
  public static String envStreams(String envId) {
    return "freshet.env." + envId + ".streams";
  }

  /** A writer's lines to the publisher (node-local, request-reply). */
  public static String streamAppends() {
    return "freshet.streams.appends";
  }

  /** The node's stream router: watches, catch-ups and refreshes from the web edge (node-local, request-reply). */
  public static String streamRouter() {
    return "freshet.streams.router";
  }
}
