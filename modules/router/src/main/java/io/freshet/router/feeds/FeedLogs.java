package io.freshet.router.feeds;

import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.ShapeHandle;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol.FeedRef;
import io.freshet.core.time.Scheduler;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.store.Ids;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One router instance's feed logs and environments: a log by its handle (what clients poll), by
 * its feed (environment, filter and columns: what a new client joins), and each environment with
 * its index of logs and its subscription to the environment's change records. Creates and drops
 * logs; decides nothing about their content.
 */
final class FeedLogs {

  private record LogKey(String envId, FeedFilter filter, Set<RunColumn> columns) {
    static LogKey of(FeedRef feed) {
      return new LogKey(feed.envId(), feed.filter(), feed.columns());
    }
  }

  private final String nodeId;
  private final int index;
  private final int logRetention;
  private final long lingerMs;
  private final Scheduler scheduler;
  private final EnvSubscriptions subscriptions;
  private final Function<String, EnvFeeds> newEnv;
  private final Map<String, EnvFeeds> envs = new HashMap<>();
  private final Map<String, LiveLog> byHandle = new HashMap<>();
  private final Map<LogKey, LiveLog> byKey = new HashMap<>();
  /** Logs each public token started, for {@code realtime.maxFeedsPerToken}. */
  private final Map<String, Integer> startedByToken = new HashMap<>();
  private final Map<LiveLog, String> starter = new HashMap<>();
  private final int maxPerEnv;
  private final int maxPerToken;
  private final java.util.function.Consumer<String> refused;
  private long serial;

  /**
   * @param refused told which bound ({@code env}, {@code token}) refused a new log
   */
  FeedLogs(String nodeId, int index, int logRetention, long lingerMs, int maxPerEnv, int maxPerToken, Scheduler scheduler,
      EnvSubscriptions subscriptions, Function<String, EnvFeeds> newEnv, java.util.function.Consumer<String> refused) {
    this.maxPerEnv = maxPerEnv;
    this.maxPerToken = maxPerToken;
    this.refused = refused;
    this.nodeId = nodeId;
    this.index = index;
    this.logRetention = logRetention;
    this.lingerMs = lingerMs;
    this.scheduler = scheduler;
    this.subscriptions = subscriptions;
    this.newEnv = newEnv;
  }

  LiveLog byHandle(String handle) {
    return byHandle.get(handle);
  }

  /** Whether {@code live} is still the log its handle names (not dropped, not replaced). */
  boolean current(LiveLog live) {
    return byHandle.get(live.handle()) == live;
  }

  /**
   * The log a new client of {@code feed} joins, or null when there is none. A log whose handle the
   * client was told is gone ({@code expiredHandle}, from a 409) is never joined again: newcomers get
   * a fresh log, and the old one serves its clients by handle until it idles out.
   */
  LiveLog joinable(FeedRef feed, String expiredHandle) {
    LogKey key = LogKey.of(feed);
    LiveLog live = byKey.get(key);
    if (live != null && live.handle().equals(expiredHandle)) {
      byKey.remove(key);
      return null;
    }
    return live;
  }

  /**
   * A new log of {@code feed}, started by {@code credential}, registered in its environment (which
   * subscribes if it is new). Memory stays bounded whatever the clients do: past
   * {@code realtime.maxFeedsPerEnv} logs in the environment, or {@code realtime.maxFeedsPerToken}
   * started by one public token, the open is refused with a 429 (the client retries; logs idle out
   * after {@code router.shapeIdleTtlMs}).
   */
  LiveLog create(FeedRef feed, String credential) {
    EnvFeeds existing = envs.get(feed.envId());
    if (existing != null && existing.index.size() >= maxPerEnv) {
      refused.accept("env");
      throw new FreshetException(429, "too many feeds open in this environment (limit " + maxPerEnv
          + ", realtime.maxFeedsPerEnv); retry shortly");
    }
    boolean token = credential.startsWith("token:");
    if (token && startedByToken.getOrDefault(credential, 0) >= maxPerToken) {
      refused.accept("token");
      throw new FreshetException(429, "this access token started too many feeds (limit " + maxPerToken
          + ", realtime.maxFeedsPerToken); retry shortly");
    }
    EnvFeeds env = env(feed.envId());
    String local = Long.toString(++serial, 36) + "-" + Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 6);
    FeedLog log = new FeedLog(new ShapeHandle(nodeId, index, local).toString(), feed.envId(), feed.filter(), feed.columns(),
        logRetention);
    LiveLog live = new LiveLog(log, env, scheduler.nowMs());
    if (token) {
      startedByToken.merge(credential, 1, Integer::sum);
      starter.put(live, credential);
    }
    byKey.put(LogKey.of(feed), live);
    byHandle.put(log.handle, live);
    env.index.register(log);
    return live;
  }

  /**
   * Registers a log another node handed over, under its own handle, as the log newcomers of its
   * feed join; null when this router already serves that handle.
   */
  LiveLog adopt(FeedLog log) {
    if (byHandle.containsKey(log.handle)) {
      return null;
    }
    EnvFeeds env = env(log.envId);
    LiveLog live = new LiveLog(log, env, scheduler.nowMs());
    byKey.putIfAbsent(new LogKey(log.envId, log.filter, log.columns), live);
    byHandle.put(log.handle, live);
    env.index.register(log);
    return live;
  }

  /** Forgets {@code live}; its environment's subscription lingers, then goes if no log came back. */
  void remove(LiveLog live) {
    if (!current(live)) {
      return;
    }
    FeedLog log = live.log;
    String token = starter.remove(live);
    if (token != null && startedByToken.merge(token, -1, Integer::sum) <= 0) {
      startedByToken.remove(token);
    }
    byHandle.remove(log.handle);
    byKey.remove(new LogKey(log.envId, log.filter, log.columns), live);
    EnvFeeds env = live.env;
    env.index.unregister(log);
    if (env.index.isEmpty()) {
      env.linger(lingerMs, () -> {
        if (envs.get(env.envId) == env) {
          envs.remove(env.envId);
          subscriptions.unsubscribe(env.envId);
        }
      });
    }
  }

  EnvFeeds existingEnv(String envId) {
    return envs.get(envId);
  }

  private EnvFeeds env(String envId) {
    EnvFeeds env = envs.get(envId);
    if (env == null) {
      EnvFeeds created = newEnv.apply(envId);
      created.subscribing(subscriptions.subscribe(envId));
      created.subscription().onFailure(e -> {
        if (envs.get(envId) == created) {
          envs.remove(envId);
        }
      });
      envs.put(envId, created);
      env = created;
    }
    env.stay();
    return env;
  }

  /** Every log, as a copy (callers may drop logs while they go through it). */
  List<LiveLog> all() {
    return new ArrayList<>(byHandle.values());
  }

  Collection<EnvFeeds> envs() {
    return envs.values();
  }

  int size() {
    return byHandle.size();
  }
}
