package io.freshet.api;

import io.freshet.core.FreshetException;
import java.util.List;

/**
 * Who is calling: an environment, with its secret key (may do everything in it) or with a public
 * access token (may only read the realtime feeds its scopes name).
 */
public record Principal(String envId, boolean secret, List<String> scopes) {

  public static Principal secretKey(String envId) {
    return new Principal(envId, true, List.of());
  }

  public void requireSecret() {
    if (!secret) {
      throw FreshetException.forbidden("this endpoint needs the environment's secret key, not a public access token");
    }
  }

  /** Whether a public token may read a feed; {@code resources} are the feed's scope resources, e.g. {@code runs:run_1}. */
  public void requireRead(List<String> resources) {
    if (secret) {
      return;
    }
    for (String scope : scopes) {
      // trigger.dev's realtime routes (run, tag and batch feeds alike) take these as super scopes:
      // a token for "all runs" may follow any of them.
      if (scope.equals("admin") || scope.equals("read:all") || scope.equals("read:runs")) {
        return;
      }
      for (String resource : resources) {
        if (scope.equals("read:" + resource)) {
          return;
        }
        // A resource type without an id grants every resource of that type.
        String type = resource.substring(0, resource.indexOf(':'));
        if (scope.equals("read:" + type) && !type.equals("runs")) {
          return;
        }
      }
    }
    throw FreshetException.forbidden("public access token lacks a scope for " + String.join(" or ", resources.stream().map(r -> "read:" + r).toList()));
  }
}
