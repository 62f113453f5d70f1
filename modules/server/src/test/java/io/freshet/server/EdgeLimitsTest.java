package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fair limits per credential: a token that holds too many live connections, or opens feeds too
 * fast, gets 429 with retry-after, while another token and the secret key of the same environment
 * carry on (a node with realtime.maxConnectionsPerToken 2 and realtime.feedOpensPerSecPerToken 1).
 */
@RigTest
class EdgeLimitsTest {

  private static NodeFixture f;
  private static String runId;
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject().put("realtime.maxConnectionsPerToken", 2).put("realtime.feedOpensPerSecPerToken", 1));
    runId = f.http.trigger("limits", new JsonObject());
    f.db.awaitReplicaCaughtUp();
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String token(String... scopes) {
    return Tokens.sign(f.node.development().apiKey(), Tokens.claims(f.devEnvId(), List.of(scopes)));
  }

  /** A stream reader held open (its headers arrive at once; the stream is not written yet), or the refusal. */
  private static HttpResponse<InputStream> reader(String credential) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(f.http.base + "/realtime/v1/streams/" + runId + "/out"))
        .header("Authorization", "Bearer " + credential).header("Timeout-Seconds", "60").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  @Test
  void aTokenPastItsLiveConnectionsGets429WhileAnotherTokenAndTheKeyAreAdmitted() throws Exception {
    String noisy = token("read:runs:" + runId);
    List<HttpResponse<InputStream>> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        held.add(reader(noisy));
        assertThat(held.get(i).statusCode()).isEqualTo(200);
      }
      HttpResponse<InputStream> third = reader(noisy);
      held.add(third);
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.headers().firstValue("retry-after")).isPresent();
      assertThat(new String(third.body().readAllBytes())).contains("realtime.maxConnectionsPerToken");

      HttpResponse<InputStream> quiet = reader(token("read:runs"));
      held.add(quiet);
      assertThat(quiet.statusCode()).as("another token of the environment").isEqualTo(200);
      HttpResponse<InputStream> key = reader(f.node.development().apiKey());
      held.add(key);
      assertThat(key.statusCode()).as("the environment's secret key").isEqualTo(200);
    } finally {
      for (HttpResponse<InputStream> response : held) {
        response.body().close();
      }
    }
    // The noisy token's slots come back when its readers go (the server sees the close).
    long deadline = System.currentTimeMillis() + 20_000;
    int status;
    do {
      HttpResponse<InputStream> again = reader(noisy);
      status = again.statusCode();
      again.body().close();
    } while (status != 200 && System.currentTimeMillis() < deadline);
    assertThat(status).isEqualTo(200);
  }

  @Test
  void feedOpensPastATokensRateGet429WhileAnotherTokenOpensItsFeed() {
    String flooding = token("read:runs:" + runId, "read:tags:flood");
    List<Integer> statuses = new ArrayList<>();
    Http.Response refused = null;
    for (int i = 0; i < 30 && refused == null; i++) {
      Http.Response r = f.http.withKey(flooding).get("/realtime/v1/runs?tags=flood,flood" + i + "&offset=-1");
      statuses.add(r.status());
      if (r.status() == 429) {
        refused = r;
      }
    }
    assertThat(statuses).as("the burst first").startsWith(200, 200, 200, 200, 200);
    assertThat(refused).as("then 429").isNotNull();
    assertThat(refused.header("retry-after")).isNotNull();
    assertThat(refused.json().getString("error")).contains("realtime.feedOpensPerSecPerToken");
    assertThat(f.http.withKey(token("read:runs:" + runId)).get("/realtime/v1/runs/" + runId + "?offset=-1").status())
        .as("another token of the environment").isEqualTo(200);
    assertThat(f.http.get("/realtime/v1/runs?tags=flood&offset=-1").status()).as("the secret key").isEqualTo(200);
  }
}
