package io.freshet.producer;

/**
 * The event-bus address an app publishing change records needs: one per environment, so a node
 * only receives the environments it holds feeds for. (A Freshet node's own addresses are in its
 * core module.)
 */
public final class Addresses {

  private Addresses() {}

  /** Where change records of one environment are published (clustered). */
  public static String envChanges(String envId) {
    return "freshet.env." + envId + ".changes";
  }
}
