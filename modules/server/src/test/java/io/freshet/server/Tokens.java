package io.freshet.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Public access tokens as a client could sign them, claims of any shape included. */
final class Tokens {

  private Tokens() {}

  /** The claims trigger.dev's SDK signs, valid for ten minutes. */
  static JsonObject claims(String envId, List<String> scopes) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", envId).put("pub", true).put("scopes", new JsonArray(scopes))
        .put("iss", "https://id.trigger.dev").put("aud", "https://api.trigger.dev").put("iat", now).put("exp", now + 600);
  }

  static String sign(String secretKey, JsonObject claims) {
    String unsigned = b64(new JsonObject().put("alg", "HS256").put("typ", "JWT").encode()) + "." + b64(claims.encode());
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secretKey.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return unsigned + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(unsigned.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
