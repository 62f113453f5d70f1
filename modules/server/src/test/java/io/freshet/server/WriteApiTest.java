package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The write API's answers over HTTP, in the exact shapes the SDK reads: the typed replies rendered at the edge. */
@RigTest
class WriteApiTest {

  private static NodeFixture f;

  @BeforeAll
  static void start() {
    f = NodeFixture.start(new JsonObject());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void aTriggerAnswersItsRunWithAPublicTokenForIt() {
    Http.Response r = f.http.post("/api/v1/tasks/write-api/trigger", "{\"payload\":\"{}\"}");

    assertThat(r.status()).isEqualTo(200);
    String runId = r.json().getString("id");
    assertThat(r.body()).isEqualTo("{\"id\":\"" + runId + "\",\"isCached\":false}");
    assertThat(r.header("x-trigger-jwt")).isNotBlank();
    assertThat(new JsonObject(r.header("x-trigger-jwt-claims"))).isEqualTo(new JsonObject().put("sub", f.devEnvId()).put("pub", true));
  }

  @Test
  void anEngineTransitionAnswersTheRawStatusAndTheNewVersion() {
    String runId = f.http.trigger("write-api", new JsonObject());

    Http.Response r = f.http.post("/engine/v1/runs/" + runId + "/transitions", "{\"to\":\"executing\"}");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().fieldNames()).containsExactly("id", "status", "updatedAt");
    assertThat(r.json().getString("id")).isEqualTo(runId);
    assertThat(r.json().getString("status")).isEqualTo("EXECUTING");
    assertThat(r.json().getString("updatedAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
  }

  /**
   * A write a load balancer received longer ago than http.writeDeadlineMs (a node frozen with the
   * request in its socket) is refused with 503 and writes nothing; a fresh stamp writes.
   */
  @Test
  void aWriteStampedLongerAgoThanTheDeadlineIs503AndChangesNothing() {
    String runId = f.http.trigger("write-api", new JsonObject());
    f.http.setMetadata(runId, new JsonObject().put("step", 1));
    String body = new JsonObject().put("metadata", new JsonObject().put("step", 2)).encode();
    String path = "/api/v1/runs/" + runId + "/metadata";

    Http.Response late = f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + path)).header("content-type", "application/json")
        .header("X-Request-Start", stamp(System.currentTimeMillis() - 20_000)).PUT(HttpRequest.BodyPublishers.ofString(body)));

    assertThat(late.status()).isEqualTo(503);
    assertThat(late.header("retry-after")).isEqualTo("1");
    assertThat(late.json().getString("error")).contains("nothing was written");
    assertThat(f.http.get("/api/v3/runs/" + runId).json().getJsonObject("metadata")).isEqualTo(new JsonObject().put("step", 1));

    Http.Response fresh = f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + path)).header("content-type", "application/json")
        .header("X-Request-Start", stamp(System.currentTimeMillis())).PUT(HttpRequest.BodyPublishers.ofString(body)));

    assertThat(fresh.status()).isEqualTo(200);
    assertThat(f.http.get("/api/v3/runs/" + runId).json().getJsonObject("metadata")).isEqualTo(new JsonObject().put("step", 2));
  }

  /** As nginx writes $msec: seconds, a dot, three digits. */
  private static String stamp(long epochMs) {
    return String.format("t=%d.%03d", epochMs / 1000, epochMs % 1000);
  }

  /** runs.retrieve of offloaded packets: presigned download URLs after the run's other fields, never the storage paths. */
  @Test
  void aRetrievedRunOffersItsOffloadedPayloadAndOutputAsPresignedUrlsLast() {
    String payloadPath = upload("trigger/packet_write_api/payload.json", "{\"json\":{\"big\":true}}");
    String outputPath = upload("run/packet_write_api/output.json", "{\"json\":{\"done\":true}}");
    Http.Response triggered = f.http.post("/api/v1/tasks/write-api/trigger", new JsonObject().put("payload", payloadPath)
        .put("options", new JsonObject().put("payloadType", "application/store")).encode());
    String runId = triggered.json().getString("id");
    assertThat(f.http.post("/engine/v1/runs/" + runId + "/transitions", new JsonObject().put("to", "completed")
        .put("output", outputPath).put("outputType", "application/store").encode()).status()).isEqualTo(200);

    Http.Response r = f.http.get("/api/v3/runs/" + runId);

    assertThat(r.status()).isEqualTo(200);
    List<String> fields = new ArrayList<>(r.json().fieldNames());
    assertThat(fields.subList(fields.size() - 2, fields.size())).containsExactly("payloadPresignedUrl", "outputPresignedUrl");
    assertThat(fields).doesNotContain("payload", "output", "payloadStorePath", "outputStorePath");
    assertThat(r.json().getString("status")).isEqualTo("COMPLETED");
    assertThat(download(r.json().getString("payloadPresignedUrl"))).isEqualTo("{\"json\":{\"big\":true}}");
    assertThat(download(r.json().getString("outputPresignedUrl"))).isEqualTo("{\"json\":{\"done\":true}}");
  }

  /** Presigns and uploads a packet as the SDK does; returns its storage path. */
  private static String upload(String path, String body) {
    Http.Response presigned = f.http.put("/api/v2/packets/" + path.replace("/", "%2F"), "");
    assertThat(presigned.status()).isEqualTo(200);
    Http.Response uploaded = f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(presigned.json().getString("presignedUrl")))
        .header("content-type", "application/super+json").PUT(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(uploaded.status()).isEqualTo(200);
    return presigned.json().getString("storagePath");
  }

  private static String download(String url) {
    Http.Response r = f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(url)).GET());
    assertThat(r.status()).isEqualTo(200);
    return r.body();
  }
}
