package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.freshet.store.Environments;
import io.freshet.store.Environments.Environment;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Turns an {@code Authorization: Bearer} value into a {@link Principal}: a secret key is looked up;
 * a public token is verified with the key of the environment it names. Lookups are cached briefly
 * (keys rarely change, and every long-poll would otherwise cost a query).
 *
 * <p>What a stranger can make it cost is bounded: a key or environment id of the wrong form is
 * refused without a query; keys and ids that are not cached are looked up on the primary within a
 * per-node budget ({@link #LOOKUPS_PER_SEC}), past which they get 429 (a known credential whose
 * entry is due for a refresh keeps its last answer instead); a failed lookup is remembered in a
 * bounded cache of its own, oldest out first, so a flood of random keys neither costs one query
 * each nor evicts the environments that are known. One instance per event loop: not thread-safe.
 */
final class Authenticator {

  /** {@code tr_<environment type>_<alphanumerics>}, as {@code Ids.secretKey} makes them. */
  static final Pattern SECRET_KEY = Pattern.compile("tr_[a-z]{2,16}_[A-Za-z0-9]{1,64}");
  /** {@code env_<alphanumerics>}, as {@code Ids.environmentId} makes them. */
  static final Pattern ENVIRONMENT_ID = Pattern.compile("env_[A-Za-z0-9]{1,64}");
  /** How long a lookup's answer is trusted: a new or rotated key works everywhere within this. */
  static final long TTL_MS = 30_000;
  /** Failed lookups remembered per event loop (the oldest goes first). */
  static final int MAX_UNKNOWN = 10_000;
  /** Known keys and environments cached per event loop (there are few; the oldest goes first past it). */
  static final int MAX_KNOWN = 10_000;
  /** Primary lookups of credentials not cached, per second per event loop, with bursts of twice as many. */
  static final int LOOKUPS_PER_SEC = 50;

  /** Where environments are looked up: the primary, or a fake in tests. */
  interface EnvironmentReads {
    Future<Optional<Environment>> byApiKey(String key);

    Future<Optional<Environment>> byId(String envId);

    static EnvironmentReads on(Pool primary) {
      return new EnvironmentReads() {
        @Override
        public Future<Optional<Environment>> byApiKey(String key) {
          return Environments.byApiKey(primary, key);
        }

        @Override
        public Future<Optional<Environment>> byId(String envId) {
          return Environments.byId(primary, envId);
        }
      };
    }
  }

  private record Cached(Optional<Environment> env, long atMs) {}

  /** One kind of lookup (by key, or by environment id): known and unknown answers kept apart. */
  private final class Lookups {
    private final Map<String, Cached> known = lru(MAX_KNOWN);
    private final Map<String, Cached> unknown = lru(MAX_UNKNOWN);
    private final Map<String, Future<Optional<Environment>>> inFlight = new HashMap<>();

    Future<Optional<Environment>> get(String key, Supplier<Future<Optional<Environment>>> load) {
      long now = clock.nowMs();
      Cached cached = known.get(key);
      if (cached == null) {
        cached = unknown.get(key);
      }
      if (cached != null && now - cached.atMs < TTL_MS) {
        return Future.succeededFuture(cached.env);
      }
      Future<Optional<Environment>> pending = inFlight.get(key);
      if (pending != null) {
        return pending;
      }
      if (!budget.tryTake()) {
        return cached != null ? Future.succeededFuture(cached.env)
            : Future.failedFuture(new FreshetException(429, "too many lookups of credentials this node does not know; retry shortly"));
      }
      Future<Optional<Environment>> loading = load.get().onComplete(ar -> {
        inFlight.remove(key);
        if (ar.succeeded()) {
          (ar.result().isPresent() ? known : unknown).put(key, new Cached(ar.result(), now));
          (ar.result().isPresent() ? unknown : known).remove(key);
        }
      });
      if (!loading.isComplete()) {
        inFlight.put(key, loading);
      }
      return loading;
    }
  }

  private final EnvironmentReads environments;
  private final TokenVerifier tokens;
  private final Clock clock;
  private final TokenBucket budget;
  private final Lookups byKey = new Lookups();
  private final Lookups byId = new Lookups();

  Authenticator(Pool primary, TokenVerifier tokens, Clock clock) {
    this(EnvironmentReads.on(primary), tokens, clock);
  }

  Authenticator(EnvironmentReads environments, TokenVerifier tokens, Clock clock) {
    this.environments = environments;
    this.tokens = tokens;
    this.clock = clock;
    this.budget = new TokenBucket(LOOKUPS_PER_SEC, 2.0 * LOOKUPS_PER_SEC, clock);
  }

  Future<Principal> authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Future.failedFuture(FreshetException.unauthorized("missing Authorization: Bearer <secret key or public access token>"));
    }
    String token = authorization.substring(7).trim();
    if (token.isEmpty() || token.length() > 8192) {
      return Future.failedFuture(FreshetException.unauthorized("invalid API key"));
    }
    if (PublicTokens.looksLikeJwt(token)) {
      JsonObject claims;
      try {
        claims = PublicTokens.unverifiedClaims(token);
      } catch (FreshetException e) {
        return Future.failedFuture(e);
      }
      String envId = (String) claims.getValue("sub"); // a string: unverifiedClaims checked every claim's type
      if (envId == null) {
        return Future.failedFuture(FreshetException.unauthorized("access token names no environment (sub)"));
      }
      if (!ENVIRONMENT_ID.matcher(envId).matches()) {
        return Future.failedFuture(FreshetException.unauthorized("access token names an unknown environment"));
      }
      return byId.get(envId, () -> environments.byId(envId)).compose(env -> {
        Environment e = env.orElseThrow(() -> FreshetException.unauthorized("access token names an unknown environment"));
        return tokens.verify(token, e.apiKey()).map(verified -> new Principal(e.id(), false, PublicTokens.scopes(verified),
            "token:" + digest(token)));
      });
    }
    if (!SECRET_KEY.matcher(token).matches()) {
      return Future.failedFuture(FreshetException.unauthorized("invalid API key"));
    }
    return byKey.get(token, () -> environments.byApiKey(token))
        .map(env -> Principal.secretKey(env.orElseThrow(() -> FreshetException.unauthorized("invalid API key")).id()));
  }

  /** The environment's secret key, for signing tokens and presigned URLs. */
  Future<String> secretKeyOf(String envId) {
    if (envId == null || !ENVIRONMENT_ID.matcher(envId).matches()) {
      return Future.failedFuture(FreshetException.unauthorized("unknown environment"));
    }
    return byId.get(envId, () -> environments.byId(envId))
        .map(env -> env.orElseThrow(() -> FreshetException.unauthorized("unknown environment")).apiKey());
  }

  private static <V> Map<String, V> lru(int max) {
    return new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > max;
      }
    };
  }

  /** A token's name for per-credential limits: a hash, so that no token is kept in memory beyond its request. */
  static String digest(String token) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
