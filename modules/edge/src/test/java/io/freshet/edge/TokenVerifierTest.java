package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenVerifierTest {

  private static final String KEY = "tr_dev_thisEnvironmentsKey0001";
  private static Vertx vertx;
  private static TokenVerifier verifier;
  private static final long NOW = System.currentTimeMillis() / 1000;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    verifier = new TokenVerifier(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject claims(long exp) {
    return new JsonObject().put("sub", "env_1").put("pub", true).put("scopes", new JsonArray().add("read:runs"))
        .put("iss", PublicTokens.ISSUER).put("aud", PublicTokens.AUDIENCE).put("iat", NOW).put("exp", exp);
  }

  private static String signed(JsonObject header, JsonObject claims, String key) {
    String unsigned = b64(header.encode()) + "." + b64(claims.encode());
    return unsigned + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(PublicTokens.hmac(key, unsigned));
  }

  /** 200 with the claims' scopes, or the status and message of the refusal. */
  private static String outcome(String token) throws Exception {
    Future<JsonObject> verified = verifier.verify(token, KEY);
    try {
      return "ok " + verified.await(10, TimeUnit.SECONDS).getJsonArray("scopes").encode();
    } catch (FreshetException e) {
      return e.status() + " " + e.getMessage();
    }
  }

  @Test
  void aTokenAsTriggerDevSignsItVerifiesWithinTheLeeway() throws Exception {
    assertThat(outcome(PublicTokens.sign(KEY, "env_1", List.of("read:runs:run_1"), NOW, 600))).isEqualTo("ok [\"read:runs:run_1\"]");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW - 2), KEY))).as("2 s past exp, within the leeway").startsWith("ok");
  }

  @Test
  void noneOtherKeysExpiredAndTamperedTokensAre401WithAMessage() throws Exception {
    String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims(NOW + 600).encode()) + ".";
    assertThat(outcome(none)).isEqualTo("401 access token must be signed with HS256 (it says none)");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW + 600), "tr_dev_anotherEnvironmentsKey")))
        .isEqualTo("401 access token signature does not verify");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW - 60), KEY))).isEqualTo("401 access token expired");
    String valid = PublicTokens.sign(KEY, "env_1", List.of("read:runs:run_1"), NOW, 600);
    String[] parts = valid.split("\\.");
    String tampered = parts[0] + "." + b64(claims(NOW + 600).encode()) + "." + parts[2];
    assertThat(outcome(tampered)).isEqualTo("401 access token signature does not verify");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS512"), claims(NOW + 600), KEY))).startsWith("401 access token must be signed with HS256");
  }

  @Test
  void issuerAudienceExpiryAndPubAreRequired() throws Exception {
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW + 600).put("iss", "https://evil.example"), KEY)))
        .isEqualTo("401 access token issuer is not " + PublicTokens.ISSUER);
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW + 600).put("aud", "https://elsewhere.example"), KEY)))
        .isEqualTo("401 access token audience is not " + PublicTokens.AUDIENCE);
    JsonObject noExp = claims(0);
    noExp.remove("exp");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), noExp, KEY))).isEqualTo("401 access token has no expiry (exp)");
    assertThat(outcome(signed(new JsonObject().put("alg", "HS256"), claims(NOW + 600).put("pub", false), KEY)))
        .isEqualTo("401 not a public access token");
    assertThat(outcome("a.b")).isEqualTo("401 malformed access token");
  }

  /** A claim of the wrong type is a 401 "invalid access token", never a 400 naming a Java class. */
  @Test
  void claimsOfTheWrongTypeAre401InvalidAccessToken() throws Exception {
    JsonObject header = new JsonObject().put("alg", "HS256");
    for (JsonObject wrong : List.of(claims(NOW + 600).put("exp", "x"), claims(NOW + 600).put("aud", 5), claims(NOW + 600).put("sub", 5),
        claims(NOW + 600).put("scopes", "x"), claims(NOW + 600).put("scopes", new JsonArray().add(5)), claims(NOW + 600).put("iat", "y"),
        claims(NOW + 600).put("iss", 5), claims(NOW + 600).put("pub", "true"), claims(NOW + 600).put("nbf", new JsonObject()))) {
      assertThat(outcome(signed(header, wrong, KEY))).as(wrong.encode()).startsWith("401 invalid access token").doesNotContain("java.");
    }
    assertThat(outcome(signed(header, claims(NOW + 600).put("exp", "x"), KEY))).isEqualTo("401 invalid access token: exp must be a number");
  }
}
