package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CORS as http.corsOrigins says, through vertx-web's CorsHandler: listed origins only, or every origin by default. */
@RigTest
class WebEdgeTest {

  private static NodeFixture listed;
  private static NodeFixture open;
  private static String runId;

  @BeforeAll
  static void start() {
    listed = NodeFixture.start(new JsonObject().put("http.corsOrigins", "https://app.example"));
    open = NodeFixture.join(listed, new JsonObject());
    runId = listed.http.trigger("cors", new JsonObject());
    listed.db.awaitReplicaCaughtUp();
  }

  @AfterAll
  static void stop() {
    open.close();
    listed.close();
  }

  private static Http.Response fromOrigin(NodeFixture node, String method, String path, String origin) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.http.base + path)).header("Origin", origin);
    if (method.equals("OPTIONS")) {
      request.method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Access-Control-Request-Method", "GET")
          .header("Access-Control-Request-Headers", "authorization");
      return node.http.withKey(null).send(request);
    }
    return node.http.send(request.GET());
  }

  @Test
  void aListedOriginGetsItsPreflightAndItsFeedAndAnotherOriginIsRefused() {
    String feed = "/realtime/v1/runs/" + runId + "?offset=-1";
    Http.Response preflight = fromOrigin(listed, "OPTIONS", feed, "https://app.example");
    assertThat(preflight.status()).isBetween(200, 204);
    assertThat(preflight.header("access-control-allow-origin")).isEqualTo("https://app.example");
    assertThat(preflight.header("access-control-allow-headers")).containsIgnoringCase("authorization");

    Http.Response get = fromOrigin(listed, "GET", feed, "https://app.example");
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.header("access-control-allow-origin")).isEqualTo("https://app.example");
    assertThat(get.header("access-control-expose-headers")).contains("electric-handle", "electric-offset");

    for (String method : new String[] {"OPTIONS", "GET"}) {
      Http.Response refused = fromOrigin(listed, method, feed, "https://evil.example");
      assertThat(refused.status()).as(method).isEqualTo(403);
      assertThat(refused.header("access-control-allow-origin")).as(method).isNull();
      assertThat(new JsonObject(refused.body()).getString("error")).as(method).contains("CORS");
    }
  }

  @Test
  void byDefaultEveryOriginMayRead() {
    Http.Response get = fromOrigin(open, "GET", "/realtime/v1/runs/" + runId + "?offset=-1", "https://anywhere.example");
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.header("access-control-allow-origin")).isEqualTo("*");
    Http.Response preflight = fromOrigin(open, "OPTIONS", "/api/v1/tasks/x/trigger", "https://anywhere.example");
    assertThat(preflight.header("access-control-allow-origin")).isEqualTo("*");
  }
}
