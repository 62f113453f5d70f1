package io.freshet.edge;

import io.freshet.core.FreshetException;
import java.util.List;
import java.util.Set;

/**
 * Who is calling: an environment, with its secret key (may do everything in it) or with a public
 * access token (may only read what its scopes name). {@code credential} names the key or token
 * itself (never the secret: a key by its environment, a token by a hash of it), for the limits
 * that are kept per credential.
 *
 * <p>The scope rules, trigger.dev's, the same on every feed, stream and packet (docs/api.md's
 * scope table): a scope {@code read:<type>:<id>} grants that one resource, and a bare
 * {@code read:<type>} every resource of the type (what the SDK's {@code {read: {tasks: true}}}
 * asks for). A run is at once its id, its tags, its batch and its task, so:
 * <ul>
 *   <li>{@code admin}, {@code read:all}, {@code read:runs}, {@code read:runs:*} and a bare
 *       {@code read:tasks} (every run has a task) read every run of the environment: any run by
 *       id, the all-runs feed, any tag or batch feed, any stream, packets by path;
 *   <li>{@code read:runs:<id>}, {@code read:tags:<tag>}, {@code read:batch:<id>} and
 *       {@code read:tasks:<task>} read the runs that are that id, carry that tag, belong to that
 *       batch or run that task (by id, with their streams and packets), and the tag or batch feed
 *       they name;
 *   <li>a bare {@code read:tags} reads every run that carries a tag and every tag feed; a bare
 *       {@code read:batch} every run of a batch and every batch feed.
 * </ul>
 */
public record Principal(String envId, boolean secret, List<String> scopes, String credential) {

  /** Scopes that read every run of the environment. */
  static final Set<String> EVERY_RUN = Set.of("admin", "read:all", "read:runs", "read:runs:*", "read:tasks");
  /** Scopes that may see the cluster's own figures (the dashboard), beside the secret key. */
  static final Set<String> OPERATOR = Set.of("admin", "read:all");
  /** Scopes that grant a run through what it carries: the run is looked up to decide. */
  private static final List<String> MEMBERSHIP_PREFIXES = List.of("read:tags", "read:batch", "read:tasks:");

  /** A public token's principal without a credential name (tests of scope rules). */
  public Principal(String envId, boolean secret, List<String> scopes) {
    this(envId, secret, scopes, secret ? "key:" + envId : "token:?");
  }

  public static Principal secretKey(String envId) {
    return new Principal(envId, true, List.of(), "key:" + envId);
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
   * as {@code runs:run_1}, {@code tags:vip}, {@code batch:batch_1}, {@code tasks:email}, or
   * {@code runs:*} for every run). A run is all of its id, its tags, its batch and its task at
   * once, as trigger.dev checks it.
   */
  public boolean mayRead(List<String> resources) {
    if (secret) {
      return true;
    }
    for (String scope : scopes) {
      if (EVERY_RUN.contains(scope)) {
        return true;
      }
      for (String resource : resources) {
        if (resource.equals("runs:*")) {
          continue; // only a scope that reads every run reads them all
        }
        // The resource itself, or (a bare scope) every resource of its type.
        if (scope.equals("read:" + resource) || scope.equals("read:" + resource.substring(0, resource.indexOf(':')))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The secret key, or a token with {@code admin} or {@code read:all}: the figures of the whole cluster. */
  public void requireOperator() {
    if (!secret && scopes.stream().noneMatch(OPERATOR::contains)) {
      throw FreshetException.forbidden("the dashboard's figures need the environment's secret key or a public access token with the "
          + "admin or read:all scope");
    }
  }

  /**
   * Whether a scope could grant a run through what the run carries (a tag, its batch, its task)
   * rather than its id: only then is the run looked up to decide.
   */
  public boolean readsRunsByMembership() {
    return !secret && scopes.stream().anyMatch(s -> MEMBERSHIP_PREFIXES.stream().anyMatch(p -> s.equals(p) || s.startsWith(p + ":")
        || p.endsWith(":") && s.startsWith(p) && s.length() > p.length()));
  }
}
