package io.freshet.producer;

/**
 * Every event-bus address Freshet uses, built in one place.
 *
 * <p>Cluster-wide: change records (one address per environment, so a node only receives the
 * environments it holds feeds for), engine transitions, each router's feed address (a poll that
 * lands on another node than the one owning its log is forwarded there) and each web edge
 * instance's push address (sinks of pushed SSE sessions).
 *
 * <p>Node-local: the lag sampler's estimate, observations and touches, the publisher's command
 * queue, and membership changes.
 */
public final class Addresses {

  private Addresses() {}

  /** Where change records of one environment are published (clustered). */
  public static String envChanges(String envId) {
    return "freshet.env." + envId + ".changes";
  }

  /** Where an embedded engine sends run status transitions (clustered, request-reply). */
  public static String engineTransitions() {
    return "freshet.engine.transitions";
  }

  /** Write commands from the HTTP edge to the publisher (node-local, request-reply). */
  public static String publisherCommands() {
    return "freshet.publisher.commands";
  }

  /** One router instance's poll address (clustered, request-reply). */
  public static String router(String nodeId, int index) {
    return "freshet.router." + nodeId + "." + index;
  }

  /**
   * One web edge instance's push address (clustered): routers send it the growth of the feed logs
   * its SSE sessions watch, one message per delivery round.
   */
  public static String feedSink(String nodeId, int webIndex) {
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

  /** The lag sampler's current estimate, published whenever it changes (node-local). */
  public static String lagEstimate() {
    return "freshet.lag.estimate";
  }

  /** Tripwire observations from routers; the reply carries the widened estimate (node-local). */
  public static String lagObservations() {
    return "freshet.lag.observations";
  }

  /** Heartbeats the cluster's writer wrote on the primary, for every node's probe to time (clustered). */
  public static String lagHeartbeats() {
    return "freshet.lag.heartbeats";
  }

  /** Nodes with active feeds ask the cluster's heartbeat writer to keep writing (clustered). */
  public static String lagHeartbeatDemand() {
    return "freshet.lag.heartbeat.demand";
  }

  /** The sampler's view of the replica, for /health and the dashboard (node-local, request-reply). */
  public static String lagState() {
    return "freshet.lag.state";
  }

  /** Routers announce that feeds are active so the sampler keeps sampling (node-local). */
  public static String lagTouch() {
    return "freshet.lag.touch";
  }

  /**
   * Every node's stats collector (clustered, published): a message {@code {replyTo}} is answered by
   * each node, sending its figures to {@code replyTo}. The dashboard gathers the cluster this way.
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

  /** The node's stream router: watches and unwatches from the web edge (node-local, request-reply). */
  public static String streamRouter() {
    return "freshet.streams.router";
  }

  /** One web edge instance's stream push address (node-local): the growth of the streams its readers follow. */
  public static String streamSink(String nodeId, int webIndex) {
    return "freshet.streams.sink." + nodeId + "." + webIndex;
  }
}
