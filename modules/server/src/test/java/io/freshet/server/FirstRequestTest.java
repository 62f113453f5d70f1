package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The first request on a new connection to a freshly started node is answered, from Java's
 * default HttpClient, which asks for a cleartext HTTP/2 upgrade (h2c) on every new connection.
 * With h2c enabled under the server's strict thread mode, 10 of the first 33 nodes of this loop
 * never answered (the rig tier's old hang); with h2c off, 0 of 80. The 10 s bound is a hang
 * detector, not a latency assertion: every answer here takes milliseconds.
 */
@RigTest
class FirstRequestTest {

  private static final int NODES = 30;

  @Test
  void everyFreshNodeAnswersTheFirstRequestOfAnUpgradingClient() throws Exception {
    NodeFixture first = NodeFixture.start(new JsonObject());
    List<String> unanswered = new ArrayList<>();
    try {
      for (int i = 0; i < NODES; i++) {
        NodeFixture node = NodeFixture.join(first, new JsonObject());
        try {
          HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(); // HTTP_2 by default: h2c upgrade
          HttpRequest request = HttpRequest.newBuilder(URI.create(node.http.base + "/metrics")).GET().build();
          try {
            HttpResponse<String> response = client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).get(10, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.version()).as("answered as the HTTP/1.1 request it also is").isEqualTo(HttpClient.Version.HTTP_1_1);
          } catch (java.util.concurrent.TimeoutException e) {
            unanswered.add("node " + i);
          }
        } finally {
          node.close();
        }
      }
    } finally {
      first.close();
    }
    assertThat(unanswered).as("first requests never answered").isEmpty();
  }
}
