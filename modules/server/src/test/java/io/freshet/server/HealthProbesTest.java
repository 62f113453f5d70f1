package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The probes an orchestrator uses, through a primary outage: the node's primary is reached through
 * a proxy the test cuts. {@code /health/live} stays 200 (restarting the node would not bring the
 * primary back, and its feeds keep serving from the replica), {@code /health/ready} is 200 while
 * feeds can be served and 503 once neither the replica nor the primary answers, and
 * {@code /health} answers as it always did.
 */
@RigTest
class HealthProbesTest {

  private static TcpProxy primary;
  private static NodeFixture f;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    primary = new TcpProxy(PgRig.PRIMARY_PORT);
    f = NodeFixture.start(db -> new JsonObject()
        .put("db.primary.uri", db.primaryUri().replace(":" + PgRig.PRIMARY_PORT + "/", ":" + primary.port() + "/")));
  }

  @AfterAll
  static void stop() {
    primary.restore();
    f.close();
    primary.close();
  }

  @AfterEach
  void everythingBack() {
    primary.restore();
    PgRig.startReplica();
  }

  private static int status(String path) {
    return f.http.withKey(null).get(path).status();
  }

  @Test
  void liveStays200AndReadyFollowsWhatFeedsCanReadThroughAPrimaryOutage() {
    assertThat(status("/health")).isEqualTo(200);
    assertThat(status("/health/live")).isEqualTo(200);
    Http.Response ready = f.http.withKey(null).get("/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("status")).isEqualTo("ready");

    primary.cut();
    assertThat(status("/health")).as("/health as before: no primary, 503").isEqualTo(503);
    Http.Response live = f.http.withKey(null).get("/health/live");
    assertThat(live.status()).as("the process is alive: never restarted for a database outage").isEqualTo(200);
    assertThat(live.json().getString("status")).isEqualTo("live");
    Http.Response stillReady = f.http.withKey(null).get("/health/ready");
    assertThat(stillReady.status()).as("feeds read the replica").isEqualTo(200);
    assertThat(stillReady.json().getString("primary")).startsWith("unreachable");

    PgRig.stopReplica();
    Http.Response notReady = f.http.withKey(null).get("/health/ready");
    assertThat(notReady.status()).as("neither the replica nor the fallback answers").isEqualTo(503);
    assertThat(notReady.json().getBoolean("feeds")).isFalse();
    assertThat(status("/health/live")).isEqualTo(200);
  }
}
