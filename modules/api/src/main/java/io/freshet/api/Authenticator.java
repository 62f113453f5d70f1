package io.freshet.api;

import io.freshet.core.FreshetException;
import io.freshet.store.Environments;
import io.freshet.store.Environments.Environment;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns an {@code Authorization: Bearer} value into a {@link Principal}: a secret key is looked up;
 * a public token is verified with the key of the environment it names. Lookups are cached briefly
 * (keys rarely change, and every long-poll would otherwise cost a query).
 */
final class Authenticator {

  private record Cached(Optional<Environment> env, long atMs) {}

  private static final long TTL_MS = 30_000;

  private final Pool primary;
  private final TokenVerifier tokens;
  private final Map<String, Cached> byKey = new ConcurrentHashMap<>();
  private final Map<String, Cached> byId = new ConcurrentHashMap<>();

  Authenticator(Pool primary, TokenVerifier tokens) {
    this.primary = primary;
    this.tokens = tokens;
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
      String envId = claims.getString("sub");
      if (envId == null) {
        return Future.failedFuture(FreshetException.unauthorized("access token names no environment (sub)"));
      }
      return lookup(byId, envId, () -> Environments.byId(primary, envId)).compose(env -> {
        Environment e = env.orElseThrow(() -> FreshetException.unauthorized("access token names an unknown environment"));
        return tokens.verify(token, e.apiKey()).map(verified -> new Principal(e.id(), false, PublicTokens.scopes(verified)));
      });
    }
    return lookup(byKey, token, () -> Environments.byApiKey(primary, token))
        .map(env -> Principal.secretKey(env.orElseThrow(() -> FreshetException.unauthorized("invalid API key")).id()));
  }

  /** The environment's secret key, for signing tokens handed back to the caller. */
  Future<String> secretKeyOf(String envId) {
    return lookup(byId, envId, () -> Environments.byId(primary, envId))
        .map(env -> env.orElseThrow(() -> FreshetException.unauthorized("unknown environment")).apiKey());
  }

  private Future<Optional<Environment>> lookup(Map<String, Cached> cache, String key,
      java.util.function.Supplier<Future<Optional<Environment>>> load) {
    long now = System.currentTimeMillis();
    Cached cached = cache.get(key);
    if (cached != null && now - cached.atMs < TTL_MS) {
      return Future.succeededFuture(cached.env);
    }
    return load.get().onSuccess(env -> {
      if (cache.size() > 10_000) {
        cache.clear();
      }
      cache.put(key, new Cached(env, now));
    });
  }
}
