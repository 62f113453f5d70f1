package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow and silent clients are closed, held feeds are not: a node with short timeouts
 * ({@code http.requestHeaderTimeoutMs}, {@code http.idleTimeoutMs}, {@code streams.writerIdleTimeoutMs})
 * and feeds held longer than them. Each test waits for the server's own signal (the connection
 * closing, a response ending); nothing asserts how fast.
 */
@RigTest
class EdgeTimeoutsTest {

  private static final int HEADER_MS = 400;
  private static final int IDLE_MS = 600;
  private static NodeFixture f;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject().put("http.requestHeaderTimeoutMs", HEADER_MS).put("http.idleTimeoutMs", IDLE_MS)
        .put("streams.writerIdleTimeoutMs", 800)
        // Held longer than the idle timeout, and silent meanwhile: only their exemption keeps them.
        .put("router.livePollTimeoutMs", 2000).put("realtime.sseMaxDurationMs", 2000).put("realtime.sseKeepAliveMs", 60000));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** A client of its own per request: a pooled connection may be one the server just closed for idleness. */
  private static Http http() {
    return f.http.withKey(f.http.key);
  }

  private static double closed(String reason) {
    return http().get("/metrics").body().lines().filter(l -> l.startsWith("freshet_http_connections_closed_total") && l.contains(reason))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aRequestWhoseHeadersNeverEndIsClosedWithoutReachingAHandler() {
    double before = closed("request-header-timeout");
    try (RawHttp raw = new RawHttp(f.node.httpPort())) {
      assertThat(raw.send("GET /realtime/v1/runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n").readUntilClosed())
          .as("closed without an answer: no handler ran").isEmpty();
    }
    assertThat(closed("request-header-timeout")).isGreaterThan(before);
  }

  @Test
  void headersTrickledAByteAtATimeAreClosedAtTheHeaderDeadlineAllTheSame() {
    ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
    try (RawHttp raw = new RawHttp(f.node.httpPort())) {
      raw.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      AtomicInteger sent = new AtomicInteger();
      trickle.scheduleAtFixedRate(() -> {
        if (raw.sendQuietly("a")) {
          sent.incrementAndGet();
        }
      }, 50, 50, TimeUnit.MILLISECONDS);
      assertThat(raw.readUntilClosed()).isEmpty();
    } finally {
      trickle.shutdownNow();
    }
  }

  @Test
  void aKeepAliveConnectionWithNothingToDoIsClosedAfterTheIdleTimeout() {
    double before = closed("idle-timeout");
    try (RawHttp raw = new RawHttp(f.node.httpPort())) {
      String answer = raw.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse();
      assertThat(RawHttp.status(answer)).isEqualTo(200);
      assertThat(raw.readUntilClosed()).isEmpty();
    }
    assertThat(closed("idle-timeout")).isGreaterThan(before);
  }

  @Test
  void aHeldLongPollAndAnSseResponseOutliveTheIdleTimeout() {
    String runId = http().trigger("timeouts", new JsonObject());
    f.db.awaitReplicaCaughtUp();
    String feed = "/realtime/v1/runs/" + runId;
    Http.Response snapshot = http().get(feed + "?offset=-1");
    String live = feed + "?handle=" + snapshot.header("electric-handle") + "&offset=" + snapshot.header("electric-offset") + "&live=true";
    Http.Response held = http().get(live + "&cursor=");
    assertThat(held.status()).as("answered after its hold, not cut at the idle timeout").isEqualTo(200);
    Http.Response sse = http().get(live + "&live_sse=true");
    assertThat(sse.status()).isEqualTo(200);
    assertThat(sse.header("content-type")).startsWith("text/event-stream");
  }

  @Test
  void aStreamWriterThatStopsSendingGets408AndWhatItSentIsKept() {
    String runId = http().trigger("timeouts-writer", new JsonObject());
    assertThat(http().put("/realtime/v1/streams/" + runId + "/self/out", "").status()).isEqualTo(202);
    String line = "{\"n\":0}\n";
    try (RawHttp raw = new RawHttp(f.node.httpPort())) {
      String answer = raw.send("POST /realtime/v1/streams/" + runId + "/self/out HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
          + f.http.key + "\r\nX-Client-Id: stalled1\r\nTransfer-Encoding: chunked\r\n\r\n"
          + Integer.toHexString(line.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + line + "\r\n").readUntilClosed();
      assertThat(RawHttp.status(answer)).isEqualTo(408);
      assertThat(RawHttp.body(answer)).contains("streams.writerIdleTimeoutMs");
    }
    // The line went to the primary when it arrived; wait for its commit (the probe reads the primary).
    long deadline = System.currentTimeMillis() + 20_000;
    String last;
    do {
      last = http().send(HttpRequest.newBuilder(URI.create(f.http.base + "/realtime/v1/streams/" + runId + "/self/out"))
          .header("X-Client-Id", "stalled1").method("HEAD", HttpRequest.BodyPublishers.noBody())).header("X-Last-Chunk-Index");
    } while (!"0".equals(last) && System.currentTimeMillis() < deadline);
    assertThat(last).as("the line that arrived is stored").isEqualTo("0");
  }
}
