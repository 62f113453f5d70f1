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

  /** Refuses (403) unless {@link #mayRead} holds. */
  public void requireRead(List<String> resources) {
    if (!mayRead(resources)) {
      throw FreshetException.forbidden("public access token lacks a scope for "
          + String.join(" or ", resources.stream().map(r -> "read:" + r).toList()));
    }
  }

  /**
   * Whether the caller may read something that is any of {@code resources} (scope resources such
   * as {@code runs:run_1}, {@code tags:vip}, {@code batch:batch_1}, {@code tasks:email}). A run is
   * all of its id, its tags, its batch and its task at once, as trigger.dev checks it.
   */
  public boolean mayRead(List<String> resources) {
    if (secret) {
      return true;
    }
    for (String scope : scopes) {
      // trigger.dev's realtime routes (run, tag and batch feeds alike) take these as super scopes:
      // a token for "all runs" may follow any of them.
      if (scope.equals("admin") || scope.equals("read:all") || scope.equals("read:runs")) {
        return true;
      }
      for (String resource : resources) {
        if (scope.equals("read:" + resource)) {
          return true;
        }
        // A resource type without an id grants every resource of that type.
        String type = resource.substring(0, resource.indexOf(':'));
        if (scope.equals("read:" + type) && !type.equals("runs")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether a scope could grant a run through what the run carries (a tag, its batch, its task)
   * rather than its id: only then is the run looked up to decide.
   */
  public boolean readsRunsByMembership() {
    return !secret && scopes.stream().anyMatch(s -> s.startsWith("read:tags") || s.startsWith("read:batch") || s.startsWith("read:tasks"));
  }
}
