package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * trigger.dev's public access tokens: HS256 JWTs signed with the environment's secret key (its
 * UTF-8 bytes), carrying {@code sub} (the environment), {@code pub: true}, {@code scopes} and
 * {@code exp}. The SDK signs them itself when configured with a secret key; {@link TokenVerifier}
 * verifies them.
 */
public final class PublicTokens {

  static final String ISSUER = "https://id.trigger.dev";
  static final String AUDIENCE = "https://api.trigger.dev";

  private PublicTokens() {}

  public static boolean looksLikeJwt(String token) {
    return token.chars().filter(c -> c == '.').count() == 2 && !token.startsWith("tr_");
  }

  /**
   * The unverified claims: enough to find the environment whose key must verify the signature.
   * Each standard claim must have its type ({@link #requireClaimTypes}), or the token is a 401.
   */
  public static JsonObject unverifiedClaims(String token) {
    return requireClaimTypes(part(token, 1));
  }

  /**
   * Refuses (401 "invalid access token: ...") a claim of the wrong type: {@code sub}, {@code iss}
   * strings; {@code exp}, {@code iat}, {@code nbf} numbers; {@code aud} a string or strings;
   * {@code pub} a boolean; {@code scopes} an array of strings. Checked before anything reads
   * them, so that no claim reaches a cast (a ClassCastException would be a 400 or a 500).
   */
  static JsonObject requireClaimTypes(JsonObject claims) {
    for (String name : List.of("sub", "iss")) {
      requireType(claims, name, v -> v instanceof String, "a string");
    }
    for (String name : List.of("exp", "iat", "nbf")) {
      requireType(claims, name, v -> v instanceof Number, "a number");
    }
    requireType(claims, "pub", v -> v instanceof Boolean, "a boolean");
    requireType(claims, "aud", v -> v instanceof String || v instanceof JsonArray a && a.stream().allMatch(String.class::isInstance),
        "a string or an array of strings");
    requireType(claims, "scopes", v -> v instanceof JsonArray a && a.stream().allMatch(String.class::isInstance), "an array of strings");
    return claims;
  }

  private static void requireType(JsonObject claims, String name, java.util.function.Predicate<Object> ok, String type) {
    Object value = claims.getValue(name);
    if (value != null && !ok.test(value)) {
      throw FreshetException.unauthorized("invalid access token: " + name + " must be " + type);
    }
  }

  private static JsonObject part(String token, int index) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw FreshetException.unauthorized("malformed access token");
    }
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[index]), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException e) {
      throw FreshetException.unauthorized("malformed access token");
    }
  }

  /** The unverified header (its {@code alg}): a token that names another algorithm is refused before any check. */
  static JsonObject unverifiedHeader(String token) {
    return part(token, 0);
  }

  /** The token's scopes (none when it has no {@code scopes}; {@link #requireClaimTypes} refused any other type). */
  public static List<String> scopes(JsonObject claims) {
    Object scopes = claims.getValue("scopes");
    if (scopes instanceof JsonArray array) {
      return array.stream().map(String.class::cast).toList();
    }
    return List.of();
  }

  /** Signs a public token, as trigger.dev's server returns in {@code x-trigger-jwt}. */
  public static String sign(String secretKey, String envId, List<String> scopes, long nowSeconds, long ttlSeconds) {
    String header = b64(new JsonObject().put("alg", "HS256").encode());
    JsonObject claims = new JsonObject().put("sub", envId).put("pub", true).put("scopes", new JsonArray(scopes))
        .put("iss", ISSUER).put("aud", AUDIENCE).put("iat", nowSeconds).put("exp", nowSeconds + ttlSeconds);
    String payload = b64(claims.encode());
    return header + "." + payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(hmac(secretKey, header + "." + payload));
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** HMAC-SHA256 of {@code data} under {@code key} (public tokens and presigned packet URLs). */
  static byte[] hmac(String key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
