package io.freshet.edge;

import io.freshet.store.RunReads;
import io.freshet.store.RunReads.RunMembership;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Whether a caller may read one run by id. As in trigger.dev, a run is at once its id, its tags,
 * its batch and its task: a public token scoped to {@code read:tags:vip} may follow, by id, any run
 * that carries {@code vip}. Only tokens holding such a scope cost a lookup (on the primary, so a
 * run triggered a moment ago is found), and what a run belongs to is cached briefly: every
 * long-poll of a feed asks again.
 */
final class RunAccess {

  /** How long a run's tags, batch and task are trusted: a tag added since shows within this. */
  static final long TTL_MS = 5_000;
  private static final int MAX_CACHED = 10_000;

  private record Cached(RunMembership membership, long atMs) {}

  private final Pool primary;
  private final LongSupplier clock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  RunAccess(Pool primary, LongSupplier clock) {
    this.primary = primary;
    this.clock = clock;
  }

  /** Succeeds when {@code principal} may read {@code runId}; fails 403 (never 404: nothing leaks) otherwise. */
  Future<Void> requireRead(Principal principal, String runId) {
    List<String> byId = List.of("runs:" + runId);
    if (principal.mayRead(byId) || !principal.readsRunsByMembership()) {
      try {
        principal.requireRead(byId);
        return Future.succeededFuture();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    return membership(principal.envId(), runId).map(found -> {
      requireRead(principal, runId, found);
      return null;
    });
  }

  /**
   * Refuses (403) unless {@code principal} may read the run as it is. The refusal names only the
   * id the caller sent: listing every scope that would have granted the run would tell a token the
   * run's tags, batch and task, and (by their absence) whether it exists at all, which is exactly
   * what answering 403 rather than 404 keeps from it.
   */
  static void requireRead(Principal principal, String runId, Optional<RunMembership> membership) {
    if (!principal.mayRead(resources(runId, membership))) {
      principal.requireRead(List.of("runs:" + runId));
    }
  }

  /** The scope resources a run is: its id, then (when it exists) each tag, its batch and its task. */
  static List<String> resources(String runId, Optional<RunMembership> membership) {
    List<String> out = new ArrayList<>();
    out.add("runs:" + runId);
    membership.ifPresent(m -> {
      m.tags().forEach(tag -> out.add("tags:" + tag));
      if (m.batchId() != null) {
        out.add("batch:" + m.batchId());
      }
      out.add("tasks:" + m.taskIdentifier());
    });
    return out;
  }

  private Future<Optional<RunMembership>> membership(String envId, String runId) {
    String key = envId + '\u0000' + runId;
    long now = clock.getAsLong();
    Cached cached = cache.get(key);
    if (cached != null && now - cached.atMs < TTL_MS) {
      return Future.succeededFuture(Optional.of(cached.membership));
    }
    return RunReads.membership(primary, envId, runId).onSuccess(found -> {
      if (found.isEmpty()) {
        return; // not cached: a run created a moment later must not be refused for the TTL
      }
      if (cache.size() >= MAX_CACHED) {
        cache.clear();
      }
      cache.put(key, new Cached(found.get(), now));
    });
  }
}
