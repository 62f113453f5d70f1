package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The edge as an attacker tries it (issue 20's findings, each against a real node on the rig):
 * no page of another tenant on the API's origin, no text stored as something nobody sent, no
 * chunk index that wraps, no stack trace for a client's malformed path, no Java class in a token
 * refusal, no presigned URL on a forwarded host, one rule per scope everywhere, no smuggling
 * framing, no unvalidated run id in the stream routes, no cluster figures for a run's token.
 */
@RigTest
class HardenedEdgeTest {

  private static NodeFixture f;
  private static String runId;
  private static String envId;
  private static String key;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject());
    runId = f.http.trigger("hardened", new JsonObject().put("tags", new JsonArray().add("t1")).put("metadata", new JsonObject().put("keep", "me")));
    envId = f.devEnvId();
    key = f.node.development().apiKey();
    f.db.awaitReplicaCaughtUp();
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String token(String... scopes) {
    return Tokens.sign(key, Tokens.claims(envId, List.of(scopes)));
  }

  private static JsonObject storedRun() {
    Row row = Await.result(f.db.primary().preparedQuery("SELECT metadata, run_tags FROM task_runs WHERE friendly_id = $1")
        .execute(Tuple.of(runId)), 10).iterator().next();
    return new JsonObject().put("metadata", row.getString(0)).put("tags", String.join(",", row.getArrayOfStrings(1)));
  }

  private static Http.Response download(String url) {
    return f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(url)).GET());
  }

  // --- 1: packets are never active content on the API's origin --------------------------------

  @Test
  void anUploadedPageIsServedAsASandboxedAttachmentNeverAsAPageOfThisOrigin() {
    String put = f.http.put("/api/v2/packets/trigger%2Fpacket_page%2Fpage.html", "").json().getString("presignedUrl");
    Http.Response stored = f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(put)).header("content-type", "text/html")
        .PUT(HttpRequest.BodyPublishers.ofString("<script>alert(document.domain)</script>")));
    assertThat(stored.status()).isEqualTo(200);
    String get = f.http.get("/api/v1/packets/trigger%2Fpacket_page%2Fpage.html").json().getString("presignedUrl");
    Http.Response page = download(get);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).isEqualTo("<script>alert(document.domain)</script>");
    assertThat(page.header("content-type")).as("the type as uploaded: the SDK compares it whole").isEqualTo("text/html");
    assertThat(page.header("content-disposition")).startsWith("attachment");
    assertThat(page.header("x-content-type-options")).isEqualTo("nosniff");
    assertThat(page.header("content-security-policy")).startsWith("sandbox");
  }

  @Test
  void everyAnswerCarriesTheSecurityHeadersAndTheDashboardAPolicyItsPageKeeps() {
    for (Http.Response answer : List.of(f.http.get("/health"), f.http.get("/no/such/endpoint"),
        f.http.get("/realtime/v1/runs/" + runId + "?offset=-1"), f.http.withKey(null).get("/api/v3/runs/" + runId))) {
      assertThat(answer.header("x-content-type-options")).isEqualTo("nosniff");
      assertThat(answer.header("content-security-policy")).contains("frame-ancestors 'none'").contains("default-src 'none'");
      assertThat(answer.header("referrer-policy")).isEqualTo("no-referrer");
    }
    Http.Response dashboard = f.http.withKey(null).get("/dashboard/");
    assertThat(dashboard.status()).isEqualTo(200);
    String policy = dashboard.header("content-security-policy");
    assertThat(policy).contains("script-src 'self'").contains("style-src 'self'").contains("connect-src 'self'")
        .contains("frame-ancestors 'none'").doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
    // What the policy refuses, the page must not need: no inline script or style, no style attributes.
    String html = dashboard.body();
    assertThat(html).containsPattern("<script src=\"dashboard\\.js\"></script>").doesNotContainPattern("<script>|<style|\\sstyle=|\\son[a-z]+=");
    assertThat(html).contains("<link rel=\"stylesheet\" href=\"dashboard.css\">");
    Http.Response js = f.http.withKey(null).get("/dashboard/dashboard.js");
    assertThat(js.body()).doesNotContain("style=").doesNotContain("eval(").doesNotContain("new Function");
    assertThat(js.header("content-security-policy")).isEqualTo(policy);
  }

  // --- 4: text PostgreSQL cannot store is refused, never stored as something else ---------------

  @Test
  void aLoneSurrogateIsRefusedInTagsTriggerOptionsAndMetadataAndNothingChanges() {
    JsonObject before = storedRun();
    String lone = "\\ud800x";
    for (Http.Response refused : List.of(
        f.http.post("/api/v1/runs/" + runId + "/tags", "{\"tags\":[\"" + lone + "\"]}"),
        f.http.post("/api/v1/tasks/hardened/trigger", "{\"payload\":\"{}\",\"options\":{\"tags\":[\"" + lone + "\"]}}"),
        f.http.put("/api/v1/runs/" + runId + "/metadata", "{\"metadata\":{\"k\":\"" + lone + "\"}}"),
        f.http.put("/api/v1/runs/" + runId + "/metadata", "{\"metadata\":{\"" + lone + "\":1}}"),
        f.http.post("/api/v1/tasks/hardened/trigger", "{\"payload\":\"{\\\"a\\\":\\\"" + lone + "\\\"}\"}"))) {
      assertThat(refused.status()).as(refused.body()).isEqualTo(400);
      assertThat(refused.json().getString("error")).contains("lone surrogate");
    }
    assertThat(storedRun()).isEqualTo(before);
    Http.Response pair = f.http.post("/api/v1/runs/" + runId + "/tags", "{\"tags\":[\"\\ud83d\\ude00\"]}");
    assertThat(pair.status()).as("a surrogate pair is one character: stored").isEqualTo(200);
  }

  // --- 5: chunk indexes never wrap --------------------------------------------------------------

  @Test
  void aResumePointWhoseLinesPassTheLastChunkIndexIsRefusedAndNothingWraps() {
    String run = f.http.trigger("hardened-stream", new JsonObject());
    assertThat(f.http.put("/realtime/v1/streams/" + run + "/self/out", "").status()).isEqualTo(202);
    Http.Response wrapped = f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + "/realtime/v1/streams/" + run + "/self/out"))
        .header("X-Client-Id", "wrapper1").header("X-Resume-From-Chunk", "2147483647")
        .POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")));
    assertThat(wrapped.status()).as(wrapped.body()).isEqualTo(400);
    assertThat(wrapped.json().getString("error")).contains("2147483647");
    Long negative = Await.result(f.db.primary().preparedQuery("SELECT count(*) FROM stream_chunks WHERE chunk_index < 0").execute(), 10)
        .iterator().next().getLong(0);
    assertThat(negative).as("no index wrapped negative").isZero();
    Http.Response probe = f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + "/realtime/v1/streams/" + run + "/self/out"))
        .header("X-Client-Id", "wrapper1").method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(probe.header("X-Last-Chunk-Index")).isIn("-1", "2147483647");
  }

  // --- 6: a malformed escape in the path is the client's mistake, not the server's ---------------

  @Test
  void aMalformedEscapeInThePathGetsAJson400AndNoErrorInTheLog() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    root.addAppender(log);
    try {
      for (String path : List.of("/%zz", "/health%G1", "/realtime/v1/runs/%", "/api/v3/runs/%E2%28", "/health?x=%zz")) {
        try (RawHttp raw = new RawHttp(f.node.httpPort())) {
          String answer = raw.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readUntilClosed();
          assertThat(RawHttp.status(answer)).as(path).isEqualTo(400);
          assertThat(answer.toLowerCase()).as(path).contains("content-type: application/json");
          assertThat(new JsonObject(RawHttp.body(answer)).getString("error")).as(path).contains("percent-escape");
        }
      }
    } finally {
      root.detachAppender(log);
    }
    assertThat(log.list).as("no ERROR, no stack trace, for a client's mistake")
        .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null);
  }

  // --- 7: every token refusal is a 401 ------------------------------------------------------------

  @Test
  void tokenClaimsOfTheWrongTypeAre401InvalidAccessToken() {
    for (JsonObject claims : List.of(Tokens.claims(envId, List.of("read:runs")).put("exp", "x"),
        Tokens.claims(envId, List.of("read:runs")).put("aud", 5), Tokens.claims(envId, List.of("read:runs")).put("sub", 5),
        Tokens.claims(envId, List.of("read:runs")).put("scopes", "x"))) {
      Http.Response refused = f.http.withKey(Tokens.sign(key, claims)).get("/realtime/v1/runs/" + runId + "?offset=-1");
      assertThat(refused.status()).as(claims.encode()).isEqualTo(401);
      assertThat(refused.json().getString("error")).as(claims.encode()).startsWith("invalid access token").doesNotContain("java.");
    }
  }

  // --- 8: presigned URLs never point at a forwarded host ----------------------------------------

  @Test
  void aPresignedUrlIgnoresXForwardedHost() {
    Http.Response presigned = f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + "/api/v2/packets/trigger%2Fpacket_fwd%2Fpayload.json"))
        .header("X-Forwarded-Host", "evil.example").header("X-Forwarded-Proto", "https").PUT(HttpRequest.BodyPublishers.noBody()));
    assertThat(presigned.status()).isEqualTo(200);
    assertThat(presigned.json().getString("presignedUrl")).startsWith(f.http.base + "/packets/").doesNotContain("evil.example");
  }

  // --- 9: one rule per scope, on every feed, stream and packet ------------------------------------

  @Test
  void readRunsStarReadsARunByIdAndABareTypeScopeReadsItsWholeType() {
    String every = token("read:runs:*");
    assertThat(f.http.withKey(every).get("/realtime/v1/runs/" + runId + "?offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(every).get("/realtime/v1/runs?offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(every).get("/api/v1/runs/" + runId + "/packets/payload").status()).as("inline payload: none to presign").isEqualTo(404);
    // As the SDK's {read: {tasks: true}} asks: every task's runs, which is every run, on every endpoint.
    String bareTasks = token("read:tasks");
    assertThat(f.http.withKey(bareTasks).get("/realtime/v1/runs/" + runId + "?offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(bareTasks).get("/realtime/v1/runs?offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(token("read:tags")).get("/realtime/v1/runs?tags=t1&offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(token("read:tags")).get("/realtime/v1/runs?offset=-1").status()).as("untagged runs too: not every run")
        .isEqualTo(403);
    assertThat(f.http.withKey(token("read:batch")).get("/realtime/v1/runs/" + runId + "?offset=-1").status()).as("not in a batch")
        .isEqualTo(403);
    assertThat(f.http.withKey(token("read:batch")).send(HttpRequest.newBuilder(URI.create(f.http.base + "/realtime/v1/streams/" + runId + "/out"))
        .header("Timeout-Seconds", "1").GET()).status()).isEqualTo(403);
    assertThat(f.http.withKey(token("read:tasks:hardened")).get("/realtime/v1/runs/" + runId + "?offset=-1").status()).isEqualTo(200);
    assertThat(f.http.withKey(token("read:tasks:hardened")).get("/realtime/v1/runs?offset=-1").status()).isEqualTo(403);
  }

  // --- 10: framing, stream run ids -----------------------------------------------------------------

  @Test
  void aRequestWithBothContentLengthAndTransferEncodingIsRefusedAndItsConnectionClosed() {
    try (RawHttp raw = new RawHttp(f.node.httpPort())) {
      String answer = raw.send("POST /api/v1/tasks/smuggle/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
          + "\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
          + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readUntilClosed();
      assertThat(RawHttp.status(answer)).isEqualTo(400);
      assertThat(new JsonObject(RawHttp.body(answer)).getString("error")).contains("Content-Length and Transfer-Encoding");
      assertThat(answer).as("the pipelined request after it is never answered: the connection closed").doesNotContain("\"status\"");
    }
    Long smuggled = Await.result(f.db.primary().preparedQuery("SELECT count(*) FROM task_runs WHERE task_identifier = 'smuggle'").execute(), 10)
        .iterator().next().getLong(0);
    assertThat(smuggled).isZero();
  }

  @Test
  void streamRoutesRefuseAnInvalidRunIdBeforeTheDatabaseAndNeverEchoIt() {
    String longId = "r".repeat(3000);
    String bidi = "run_%E2%80%AEevil";
    for (Http.Response refused : List.of(f.http.get("/realtime/v1/streams/" + longId + "/out"), f.http.get("/realtime/v1/streams/" + bidi + "/out"),
        f.http.put("/realtime/v1/streams/" + longId + "/self/out", ""), f.http.put("/realtime/v1/streams/" + bidi + "/self/out", ""),
        f.http.post("/realtime/v1/streams/" + bidi + "/self/out/append", "x"))) {
      assertThat(refused.status()).as(refused.body()).isEqualTo(400);
      assertThat(refused.json().getString("error")).contains("runId must be").doesNotContain("rrrrrrrr").doesNotContain("\u202e");
    }
  }

  // --- 11: the cluster's figures are not a run token's ---------------------------------------------

  @Test
  void theDashboardStatsNeedTheSecretKeyOrAnOperatorScope() {
    Http.Response runToken = f.http.withKey(token("read:runs:" + runId)).get("/api/v1/dashboard/stats");
    assertThat(runToken.status()).isEqualTo(403);
    assertThat(runToken.json().getString("error")).contains("admin");
    assertThat(f.http.withKey(token("read:runs")).get("/api/v1/dashboard/stats").status()).isEqualTo(403);
    assertThat(f.http.get("/api/v1/dashboard/stats").status()).isEqualTo(200);
    assertThat(f.http.withKey(token("admin")).get("/api/v1/dashboard/stats").status()).isEqualTo(200);
  }
}
