package io.freshet.core;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

/**
 * Faults the fault suite injects into one node ({@code test.hooks=true}, {@code POST /_test/hooks}):
 * per Vert.x instance, read on the paths they break. Off, and unreachable, unless configured.
 */
public final class TestHooks {

  /** The node's routers drop every change record they receive (a lossy event bus at this node). */
  public static final String DROP_CHANGE_RECORDS = "dropChangeRecords";

  private TestHooks() {}

  private static LocalMap<String, Boolean> flags(Vertx vertx) {
    return vertx.sharedData().getLocalMap("freshet.test.hooks");
  }

  public static boolean on(Vertx vertx, String hook) {
    return Boolean.TRUE.equals(flags(vertx).get(hook));
  }

  /** Sets the hooks named in {@code json} (booleans); returns them all. */
  public static JsonObject set(Vertx vertx, JsonObject json) {
    for (String hook : new String[] {DROP_CHANGE_RECORDS}) {
      Object value = json.getValue(hook);
      if (value != null && !(value instanceof Boolean)) {
        throw FreshetException.badRequest(hook + " must be a boolean");
      }
      if (value != null) {
        flags(vertx).put(hook, (Boolean) value);
      }
    }
    return new JsonObject().put(DROP_CHANGE_RECORDS, on(vertx, DROP_CHANGE_RECORDS));
  }
}
