package io.freshet.core;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A feed's Electric handle names the node and router instance that own the feed's state, so a poll
 * that a load balancer sends to another node can be forwarded to the owner over the clustered
 * event bus. Form: {@code <nodeId>-<routerIndex>-<serial>-<random>}, URL-safe.
 */
public record ShapeHandle(String nodeId, int routerIndex, String local) {

  private static final Pattern FORM = Pattern.compile("([a-z0-9]{4,16})-(\\d{1,3})-([a-z0-9]{1,13}-[a-z0-9]{4,8})");

  @Override
  public String toString() {
    return nodeId + "-" + routerIndex + "-" + local;
  }

  /**
   * Parses a handle a client sent back; empty when it is not of this server's form (a handle from
   * another Electric server, or from an older Freshet), which the caller treats like any handle it
   * no longer knows: 409 must-refetch, so the client starts over instead of stopping on a 400.
   */
  public static Optional<ShapeHandle> tryParse(String handle) {
    var m = FORM.matcher(handle == null ? "" : handle);
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new ShapeHandle(m.group(1), Integer.parseInt(m.group(2)), m.group(3)));
  }

  /** Parses a handle a client sent back; a malformed one is a client error (400). */
  public static ShapeHandle parse(String handle) {
    var m = FORM.matcher(handle == null ? "" : handle);
    if (!m.matches()) {
      throw FreshetException.badRequest("handle: not a handle this server issued");
    }
    return new ShapeHandle(m.group(1), Integer.parseInt(m.group(2)), m.group(3));
  }
}
