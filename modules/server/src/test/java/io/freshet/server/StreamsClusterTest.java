package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.Await;
import io.freshet.store.testing.PgRig;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Realtime streams across two nodes joined through Hazelcast on 127.0.0.1, on the rig's primary
 * and lagging standby: a writer's chunks committed through node A reach a reader on node B, which
 * reads them from its replica once the announcement's watermark is older than the lag. Each test
 * waits for the server's own signals (a reader's response headers, a metric, a response ending),
 * never for time to pass.
 */
@RigTest
class StreamsClusterTest {

  private static NodeFixture a;
  private static NodeFixture b;
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    String name = "freshet-test-" + UUID.randomUUID();
    JsonObject cluster = new JsonObject().put("cluster.enabled", true).put("cluster.name", name)
        .put("cluster.members", "127.0.0.1:5821,127.0.0.1:5822");
    a = NodeFixture.start(cluster.copy().put("cluster.port", 5821));
    // Node B hydrates at once (ungated): every chunk it reads early is caught by the seq tripwire.
    b = NodeFixture.join(a, cluster.copy().put("cluster.port", 5822).put("gate.mode", "ungated"));
  }

  @AfterEach
  void replayBackToNormal() {
    PgRig.resumeReplay();
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  /** An SSE reader of one stream, in the background: every data line, until the server ends the response. */
  static final class Reader {
    final List<String> data = new CopyOnWriteArrayList<>();
    final List<String> ids = new CopyOnWriteArrayList<>();
    /** The response's status, once its headers arrived. */
    final CompletableFuture<Integer> headers = new CompletableFuture<>();
    final CompletableFuture<Integer> ended = new CompletableFuture<>();

    Reader(Http node, String runId, String key) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(node.base + "/realtime/v1/streams/" + runId + "/" + key))
          .header("Authorization", "Bearer " + node.key).header("Accept", "text/event-stream").header("Timeout-Seconds", "30").GET().build();
      Thread thread = new Thread(() -> {
        try {
          HttpResponse<java.io.InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
          headers.complete(response.statusCode());
          try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
              if (line.startsWith("data: ")) {
                data.add(line.substring(6));
              } else if (line.startsWith("id: ")) {
                ids.add(line.substring(4));
              }
            }
          }
          ended.complete(response.statusCode());
        } catch (Exception e) {
          headers.completeExceptionally(e);
          ended.completeExceptionally(e);
        }
      }, "stream-reader");
      thread.setDaemon(true);
      thread.start();
    }

    /**
     * Waits until the node follows the stream for this reader. The web edge writes a reader's
     * headers only once the node's stream router has answered its follow: the log is open on what
     * the primary had, and this reader's web instance is among the sinks its chunks are pushed to.
     */
    Reader following() throws Exception {
      assertThat(headers.get(30, TimeUnit.SECONDS)).as("the reader's response").isEqualTo(200);
      return this;
    }
  }

  /**
   * Writes {@code count} NDJSON chunks as one long chunked POST, a few ms apart, as the SDK's writer
   * does (the pause paces the writer like a real one; it waits for nothing).
   */
  static HttpResponse<String> write(Http node, String runId, String key, int count) throws Exception {
    return write(node, runId, key, count, -1, () -> {});
  }

  /** As {@link #write(Http, String, String, int)}, running {@code midway} once chunk {@code midwayAfter} is sent. */
  static HttpResponse<String> write(Http node, String runId, String key, int count, int midwayAfter, Runnable midway) throws Exception {
    PipedOutputStream out = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(out, 64 * 1024);
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.base + "/realtime/v1/streams/" + runId + "/self/" + key))
        .header("Authorization", "Bearer " + node.key).header("X-Client-Id", "java0001").header("X-Resume-From-Chunk", "0")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> in)).build();
    CompletableFuture<HttpResponse<String>> response = client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try (OutputStream body = out) {
      for (int i = 0; i < count; i++) {
        body.write(("{\"i\":" + i + "}\n").getBytes(StandardCharsets.UTF_8));
        body.flush();
        if (i == midwayAfter) {
          midway.run();
        }
        if (i % 10 == 9) {
          Thread.sleep(5); // pacing, as a task writes tokens: not a wait for the server
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return response.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aStreamWrittenThroughNodeAReachesAReaderOnNodeBInOrderOnce() throws Exception {
    String runId = a.http.trigger("streams", new JsonObject());
    assertThat(a.http.put("/realtime/v1/streams/" + runId + "/self/tokens", "").status()).isEqualTo(202);
    Reader reader = new Reader(b.http, runId, "tokens").following(); // before the first chunk
    double staleBefore = b.metric("freshet_stream_stale_reads_total");
    double deliveredBefore = b.metric("freshet_stream_chunks_delivered_total");
    // For the first half of the stream the standby does not replay, so node B's reads of it are
    // certainly early: each must be caught by the seq tripwire rather than skipped. The writer goes
    // on once B has found one short, and the standby replays again.
    PgRig.pauseReplay();
    HttpResponse<String> written = write(a.http, runId, "tokens", 300, 149, () -> {
      b.awaitMetric("freshet_stream_stale_reads_total", n -> n > staleBefore, "node B to find its replica short of the commits");
      PgRig.resumeReplay();
    });
    assertThat(written.statusCode()).as(written.body()).isEqualTo(200);

    assertThat(reader.ended.get(30, TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(reader.data).hasSize(300);
    for (int i = 0; i < 300; i++) {
      assertThat(new JsonObject(reader.data.get(i)).getInteger("i")).isEqualTo(i);
      assertThat(reader.ids.get(i)).endsWith("-" + i);
    }
    assertThat(b.metric("freshet_stream_chunks_delivered_total") - deliveredBefore).as("each chunk read and pushed once on node B")
        .isEqualTo(300);
  }

  @Test
  void aReaderOnNodeBThatReconnectsResumesAfterItsLastEventId() throws Exception {
    String runId = a.http.trigger("streams", new JsonObject());
    assertThat(write(a.http, runId, "log", 50).statusCode()).isEqualTo(200);
    HttpResponse<String> resumed = client.send(HttpRequest.newBuilder(URI.create(b.http.base + "/realtime/v1/streams/" + runId + "/log"))
        .header("Authorization", "Bearer " + b.http.key).header("Last-Event-ID", "1796000000000-44").GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(resumed.statusCode()).isEqualTo(200);
    assertThat(resumed.headers().firstValue("x-stream-version")).hasValue("v1");
    List<Integer> seen = resumed.body().lines().filter(l -> l.startsWith("data: "))
        .map(l -> new JsonObject(l.substring(6)).getInteger("i")).toList();
    assertThat(seen).containsExactly(45, 46, 47, 48, 49);
  }

  @Test
  void completingTheRunOnNodeAEndsAReaderOnNodeB() throws Exception {
    String runId = a.http.trigger("streams", new JsonObject());
    assertThat(a.http.put("/realtime/v1/streams/" + runId + "/self/progress", "").status()).isEqualTo(202);
    assertThat(a.http.post("/realtime/v1/streams/" + runId + "/self/progress/append", "{\"step\":1}").status()).isEqualTo(200);
    Reader reader = new Reader(b.http, runId, "progress").following();
    Await.until("the reader on node B to receive the part appended through node A", () -> reader.data.size() == 1);
    assertThat(reader.ended).as("an open stream keeps its reader").isNotDone();
    assertThat(a.http.post("/engine/v1/runs/" + runId + "/transitions", "{\"to\":\"completed\"}").status()).isEqualTo(200);
    // The run's end reaches node B as an announcement; the stream's backstop on the primary
    // (StreamFeeds.BACKSTOP_MS, 20 s) could end the reader too, but only after this wait.
    assertThat(reader.ended.get(15, TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(reader.data).containsExactly("{\"step\":1}");
  }
}
