package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies public access tokens with vertx-auth-jwt, as trigger.dev's server does with jose: HS256
 * under the environment's secret key, the issuer and audience trigger.dev sets, an expiry (with a
 * few seconds of leeway for clocks that differ), and {@code pub: true}. Anything else is a 401 with
 * a message saying what was wrong.
 */
final class TokenVerifier {

  /** Clock difference tolerated between whoever signed the token and this node. */
  static final int LEEWAY_S = 5;
  private static final int MAX_CACHED_KEYS = 1_000;

  private final Vertx vertx;
  /** One verifier per environment key (a key rotates by becoming another entry). */
  private final Map<String, JWTAuth> byKey = new ConcurrentHashMap<>();

  TokenVerifier(Vertx vertx) {
    this.vertx = vertx;
  }

  /** The verified claims, or a failed future carrying a 401. */
  Future<JsonObject> verify(String token, String secretKey) {
    Object alg;
    Future<io.vertx.ext.auth.User> authenticated;
    try {
      alg = PublicTokens.unverifiedHeader(token).getValue("alg");
      if (!"HS256".equals(alg)) {
        // Said before verifying: "none" and other algorithms are never accepted, whatever they sign.
        return Future.failedFuture(FreshetException.unauthorized("access token must be signed with HS256 (it says " + alg + ")"));
      }
      // Claims of the wrong type are refused before vertx-auth-jwt casts them (exp: "x" threw a
      // ClassCastException out of authenticate, which became a 400 naming the Java class).
      PublicTokens.unverifiedClaims(token);
      authenticated = auth(secretKey).authenticate(new TokenCredentials(token));
    } catch (FreshetException e) {
      return Future.failedFuture(e);
    } catch (RuntimeException e) {
      return Future.failedFuture(FreshetException.unauthorized("invalid access token"));
    }
    return authenticated
        .recover(e -> Future.failedFuture(FreshetException.unauthorized(reason(e))))
        .map(user -> {
          // The verified claims are the user's accessToken attribute (its principal holds the raw token).
          JsonObject claims = user.attributes().getJsonObject("accessToken");
          if (!(claims.getValue("exp") instanceof Number)) {
            throw FreshetException.unauthorized("access token has no expiry (exp)");
          }
          if (!Boolean.TRUE.equals(claims.getValue("pub"))) {
            throw FreshetException.unauthorized("not a public access token");
          }
          return claims;
        });
  }

  private JWTAuth auth(String secretKey) {
    JWTAuth auth = byKey.get(secretKey);
    if (auth == null) {
      if (byKey.size() >= MAX_CACHED_KEYS) {
        byKey.clear();
      }
      auth = JWTAuth.create(vertx, new JWTAuthOptions()
          .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secretKey))
          .setJWTOptions(new JWTOptions().setLeeway(LEEWAY_S).setIssuer(PublicTokens.ISSUER).setAudience(List.of(PublicTokens.AUDIENCE))));
      byKey.put(secretKey, auth);
    }
    return auth;
  }

  /** vertx-auth-jwt's reasons, in the words a client can act on. */
  private static String reason(Throwable e) {
    String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (message.contains("expired")) {
      return "access token expired";
    }
    if (message.contains("signature")) {
      return "access token signature does not verify";
    }
    if (message.contains("audience")) {
      return "access token audience is not " + PublicTokens.AUDIENCE;
    }
    if (message.contains("issuer")) {
      return "access token issuer is not " + PublicTokens.ISSUER;
    }
    return "invalid access token"; // vertx-auth-jwt's own words may name Java classes
  }
}
