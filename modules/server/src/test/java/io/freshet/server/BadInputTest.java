package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.edge.PacketUrls;
import io.freshet.edge.PublicTokens;
import io.freshet.store.Environments;
import io.freshet.store.testing.Await;
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

/**
 * Bad input on every endpoint gets a clear 4xx with a JSON message, never a 500, and changes
 * nothing stored.
 */
@RigTest
class BadInputTest {

  private static NodeFixture f;
  private static String runId;
  private static String otherRunId;
  private static String otherEnvKey;

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject().put("http.bodyLimitBytes", 64 * 1024).put("publisher.maxMetadataBytes", 4096)
        .put("packets.maxBytes", 100_000));
    runId = f.http.trigger("victim", new JsonObject().put("metadata", new JsonObject().put("keep", "me"))
        .put("tags", new JsonArray().add("t1")));
    otherRunId = f.http.trigger("other", new JsonObject());
    otherEnvKey = Await.result(Environments.create(f.db.primary(), "other", "STAGING"), 10).apiKey();
    f.db.awaitReplicaCaughtUp();
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static Http.Response expect(int status, Http.Response response) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    if (status >= 400 && status != 409) {
      assertThat(new JsonObject(response.body()).getString("error")).as("a message the client can act on").isNotBlank();
    }
    assertThat(response.header("content-type")).startsWith("application/json");
    return response;
  }

  private static JsonObject storedRun() {
    Row row = Await.result(f.db.primary().preparedQuery("SELECT metadata, run_tags, status, updated_at FROM task_runs WHERE friendly_id = $1")
        .execute(Tuple.of(runId)), 10).iterator().next();
    return new JsonObject().put("metadata", row.getString(0)).put("tags", String.join(",", row.getArrayOfStrings(1)))
        .put("status", row.getString(2)).put("updatedAt", row.getLocalDateTime(3).toString());
  }

  @Test
  void authenticationFailuresAre401() {
    expect(401, f.http.withKey(null).get("/realtime/v1/runs/" + runId + "?offset=-1"));
    expect(401, f.http.withKey("tr_dev_notARealKeyAtAll000000").get("/realtime/v1/runs/" + runId + "?offset=-1"));
    expect(401, f.http.withKey("not.a.jwt").get("/realtime/v1/runs/" + runId + "?offset=-1"));
    expect(401, f.http.withKey(null).post("/api/v1/tasks/x/trigger", "{}"));
  }

  @Test
  void malformedWritesAre4xxAndChangeNothing() {
    JsonObject before = storedRun();
    String path = "/api/v1/runs/" + runId + "/metadata";
    expect(400, f.http.put(path, "{not json"));
    expect(400, f.http.put(path, "[1,2]"));
    expect(400, f.http.put(path, "{\"operations\":[{\"type\":\"set\"}]}"));
    expect(400, f.http.put(path, "{\"operations\":[{\"type\":\"set\",\"key\":\"$.\",\"value\":1}]}"));
    expect(400, f.http.put(path, "{\"operations\":[{\"type\":\"increment\",\"key\":\"n\",\"value\":\"x\"}]}"));
    expect(400, f.http.put(path, "{\"metadata\":[1]}"));
    expect(413, f.http.put(path, new JsonObject().put("metadata", new JsonObject().put("big", "x".repeat(5000))).encode()));
    expect(413, f.http.put(path, new JsonObject().put("metadata", new JsonObject().put("huge", "x".repeat(70_000))).encode()));
    expect(400, f.http.post("/api/v1/runs/" + runId + "/tags", "{\"tags\":[1,2]}"));
    expect(422, f.http.post("/api/v1/runs/" + runId + "/tags", new JsonObject().put("tags",
        new JsonArray(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"))).encode()));
    expect(400, f.http.post("/engine/v1/runs/" + runId + "/transitions", "{\"to\":\"sideways\"}"));
    expect(400, f.http.post("/api/v1/tasks/bad%20task/trigger", "{}"));
    expect(400, f.http.post("/api/v1/tasks/ok/trigger", "{\"options\":{\"tags\":[{}]}}"));
    expect(400, f.http.post("/api/v2/tasks/batch", "{\"items\":\"nope\"}"));
    expect(400, f.http.post("/api/v3/batches", "{\"runCount\":0}"));
    expect(415, f.http.send(HttpRequest.newBuilder(URI.create(f.http.base + "/api/v3/batches/batch_x/items"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"))));
    assertThat(storedRun()).as("nothing stored changed").isEqualTo(before);
  }

  @Test
  void unknownRunsAndBatchesAre404() {
    expect(404, f.http.put("/api/v1/runs/run_doesnotexist/metadata", "{\"metadata\":{}}".replace("{}", "{\"a\":1}")));
    expect(404, f.http.post("/api/v1/runs/run_doesnotexist/tags", "{\"tags\":[\"a\"]}"));
    expect(404, f.http.post("/api/v2/runs/run_doesnotexist/cancel", ""));
    expect(404, f.http.get("/api/v3/runs/run_doesnotexist"));
    expect(404, f.http.post("/engine/v1/runs/run_doesnotexist/transitions", "{\"to\":\"executing\"}"));
    expect(404, f.http.get("/realtime/v1/runs/run_doesnotexist?offset=-1"));
    expect(404, f.http.get("/realtime/v1/batches/batch_doesnotexist?offset=-1"));
    expect(404, f.http.get("/no/such/endpoint"));
  }

  @Test
  void badOffsetsHandlesAndFeedParametersAre4xx() {
    String feed = "/realtime/v1/runs/" + runId;
    expect(400, f.http.get(feed + "?offset=abc"));
    expect(400, f.http.get(feed + "?offset=5_0"));
    // A handle of another form (another server's) must be refetched: a 400 would stop Electric's clients for good.
    expect(409, f.http.get(feed + "?offset=5_0&handle=not-a-handle"));
    Http.Response snapshot = f.http.get(feed + "?offset=-1");
    String handle = snapshot.header("electric-handle");
    expect(400, f.http.get(feed + "?offset=99_0&handle=" + handle));
    Http.Response gone = expect(409, f.http.get(feed + "?offset=1_0&handle=" + f.node.nodeId() + "-0-zz-abcdef&live=true"));
    assertThat(gone.body()).isEqualTo("[{\"headers\":{\"control\":\"must-refetch\"}}]");
    // An unknown column in skipColumns skips nothing (trigger.dev's answer); the row is whole.
    Http.Response unknownColumn = expect(200, f.http.get(feed + "?offset=-1&skipColumns=nope"));
    assertThat(unknownColumn.header("electric-schema")).contains("\"payload\"").contains("\"metadata\"");
    expect(400, f.http.get("/realtime/v1/runs?tags=a&createdAt=yesterday&offset=-1"));
    expect(400, f.http.get("/realtime/v1/runs?tags=a,b,c,d,e,f,g,h,i,j,k&offset=-1"));
    expect(400, f.http.get("/realtime/v1/runs/" + "x".repeat(200) + "?offset=-1"));
  }

  @Test
  void wrongKeysAndScopesSeeNothingOfAnotherEnvironmentOrRun() {
    long now = System.currentTimeMillis() / 1000;
    String envId = f.devEnvId();
    String key = f.node.development().apiKey();
    String runToken = PublicTokens.sign(key, envId, List.of("read:runs:" + runId), now, 600);
    assertThat(f.http.withKey(runToken).get("/realtime/v1/runs/" + runId + "?offset=-1").status()).isEqualTo(200);
    expect(403, f.http.withKey(runToken).get("/realtime/v1/runs/" + otherRunId + "?offset=-1"));
    expect(403, f.http.withKey(runToken).get("/realtime/v1/runs?tags=t1&offset=-1"));
    expect(403, f.http.withKey(runToken).get("/realtime/v1/batches/batch_abc?offset=-1"));
    expect(403, f.http.withKey(runToken).put("/api/v1/runs/" + runId + "/metadata", "{\"metadata\":{\"x\":1}}"));
    expect(401, f.http.withKey(PublicTokens.sign(key, envId, List.of("read:runs:" + runId), now - 1200, 600))
        .get("/realtime/v1/runs/" + runId + "?offset=-1"));
    expect(401, f.http.withKey(PublicTokens.sign("tr_dev_wrongKey000000000000000", envId, List.of("read:runs"), now, 600))
        .get("/realtime/v1/runs/" + runId + "?offset=-1"));
    // Another environment's secret key: the run does not exist there.
    expect(404, f.http.withKey(otherEnvKey).get("/realtime/v1/runs/" + runId + "?offset=-1"));
    expect(404, f.http.withKey(otherEnvKey).put("/api/v1/runs/" + runId + "/metadata", "{\"metadata\":{\"x\":1}}"));
    assertThat(new JsonObject(storedRun().getString("metadata")).getString("keep")).isEqualTo("me");
  }

  /** As trigger.dev grants it: a run is its id, its tags, its batch and its task. */
  @Test
  void aTokenScopedToATagOrATaskReadsByIdTheRunsThatCarryItAndNoOthers() {
    long now = System.currentTimeMillis() / 1000;
    String key = f.node.development().apiKey();
    for (String scope : List.of("read:tags:t1", "read:tasks:victim")) {
      String token = PublicTokens.sign(key, f.devEnvId(), List.of(scope), now, 600);
      Http.Response mine = expect(200, f.http.withKey(token).get("/realtime/v1/runs/" + runId + "?offset=-1"));
      assertThat(mine.body()).as(scope).contains(runId);
      expect(403, f.http.withKey(token).get("/realtime/v1/runs/" + otherRunId + "?offset=-1"));
      // A run that does not exist is refused like one the token cannot see: nothing says which.
      expect(403, f.http.withKey(token).get("/realtime/v1/runs/run_doesnotexist0000000000?offset=-1"));
    }
    String tagToken = PublicTokens.sign(key, f.devEnvId(), List.of("read:tags:t1"), now, 600);
    expect(403, f.http.withKey(tagToken).get("/realtime/v1/runs?tags=t2&offset=-1"));
    expect(403, f.http.withKey(tagToken).get("/api/v3/runs/" + runId));
    // Another environment's token with the same scope: the run is not its environment's.
    String otherEnvToken = PublicTokens.sign(otherEnvKey, otherEnvId(), List.of("read:tags:t1"), now, 600);
    expect(403, f.http.withKey(otherEnvToken).get("/realtime/v1/runs/" + runId + "?offset=-1"));
  }

  private static String otherEnvId() {
    return Await.result(Environments.byApiKey(f.db.primary(), otherEnvKey), 10).orElseThrow().id();
  }

  @Test
  void aHandleCannotBeBorrowedByAnotherEnvironmentOrAnotherFeed() {
    String key = f.node.development().apiKey();
    Http.Response mine = f.http.get("/realtime/v1/runs/" + runId + "?offset=-1");
    String handle = mine.header("electric-handle");
    // Another environment's key, naming this environment's run and handle.
    Http.Response borrowed = expect(409, f.http.withKey(otherEnvKey).get("/realtime/v1/runs/" + runId + "?offset=0_0&handle=" + handle));
    assertThat(borrowed.body()).doesNotContain("keep");
    // A token for the other run, presenting this run's handle under its own run's URL.
    String otherToken = PublicTokens.sign(key, f.devEnvId(), List.of("read:runs:" + otherRunId), System.currentTimeMillis() / 1000, 600);
    Http.Response swapped = expect(409, f.http.withKey(otherToken).get("/realtime/v1/runs/" + otherRunId + "?offset=0_0&handle=" + handle));
    assertThat(swapped.body()).doesNotContain("keep");
  }
  private static Http.Response upload(String url, String contentType, String body) {
    return f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(url)).header("content-type", contentType)
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static Http.Response download(String url) {
    return f.http.withKey(null).send(HttpRequest.newBuilder(URI.create(url)).GET());
  }

  /** Packets: only what a valid presigned URL names is stored, within the size limit; nothing else reads or writes one. */
  @Test
  void packetsRefuseOversizeBodiesAlteredOrExpiredUrlsTraversalAndOtherEnvironments() {
    Http.Response presigned = expect(200, f.http.put("/api/v2/packets/trigger%2Fpacket_bad1%2Fpayload.json", ""));
    String url = presigned.json().getString("presignedUrl");
    assertThat(presigned.json().getString("storagePath")).isEqualTo("trigger/packet_bad1/payload.json");

    // Over packets.maxBytes (100,000): 413, and nothing is stored. Over http.bodyLimitBytes (64 KiB) but within it: stored.
    expect(413, upload(url, "application/json", "\"" + "x".repeat(150_000) + "\""));
    String getUrl = f.http.get("/api/v1/packets/trigger%2Fpacket_bad1%2Fpayload.json").json().getString("presignedUrl");
    expect(404, download(getUrl));
    String body = "\"" + "y".repeat(80_000) + "\"";
    assertThat(upload(url, "application/super+json", body).status()).isEqualTo(200);
    Http.Response got = download(getUrl);
    assertThat(got.status()).isEqualTo(200);
    assertThat(got.body()).isEqualTo(body);
    assertThat(got.header("content-type")).as("the type exactly as uploaded").isEqualTo("application/super+json");

    // An altered signature, an altered path, the upload URL used to download, an expired URL: 403.
    expect(403, upload(url.replace("signature=", "signature=0"), "application/json", "1"));
    expect(403, upload(url.replace("packet_bad1", "packet_bad2"), "application/json", "1"));
    expect(403, download(url));
    long past = System.currentTimeMillis() / 1000 - 1;
    String base = url.substring(0, url.indexOf("/packets/"));
    String expired = PacketUrls.presigned(base, f.node.development().apiKey(), "GET", f.devEnvId(), "trigger/packet_bad1/payload.json", past);
    assertThat(expect(403, download(expired)).json().getString("error")).contains("expired");
    // Moved to another environment, a URL signed for this one is refused; that environment's key reads only its own packets.
    expect(403, download(getUrl.replace("/packets/" + f.devEnvId() + "/", "/packets/" + otherEnvId() + "/")));
    String otherGet = f.http.withKey(otherEnvKey).get("/api/v1/packets/trigger%2Fpacket_bad1%2Fpayload.json").json().getString("presignedUrl");
    expect(404, download(otherGet));
    expect(403, download(getUrl.replace("/packets/" + f.devEnvId() + "/", "/packets/env_nosuch/")));

    // Traversal and other unsafe paths: 400, at presigning and at the presigned endpoint alike.
    expect(400, f.http.put("/api/v2/packets/trigger%2F..%2F..%2Fpayload.json", ""));
    expect(400, f.http.put("/api/v2/packets/%2Fetc%2Fpasswd", ""));
    expect(400, f.http.put("/api/v2/packets/a%2F%2Fb", ""));
    expect(400, f.http.put("/api/v2/packets/a%00b", ""));
    expect(400, upload(base + "/packets/" + f.devEnvId() + "/a/%2E%2E/b?expires=1&signature=x", "application/json", "1"));

    // Keys and scopes: uploads need the secret key, a download by path a token that reads every run.
    long now = System.currentTimeMillis() / 1000;
    String runToken = PublicTokens.sign(f.node.development().apiKey(), f.devEnvId(), List.of("read:runs:" + runId), now, 600);
    expect(403, f.http.withKey(runToken).put("/api/v2/packets/trigger%2Fpacket_bad3%2Fpayload.json", ""));
    expect(403, f.http.withKey(runToken).get("/api/v1/packets/trigger%2Fpacket_bad1%2Fpayload.json"));
    expect(401, f.http.withKey(null).put("/api/v2/packets/trigger%2Fpacket_bad3%2Fpayload.json", ""));
    // A run whose payload is inline has no packet; a field other than payload or output does not exist.
    expect(404, f.http.get("/api/v1/runs/" + runId + "/packets/payload"));
    expect(404, f.http.get("/api/v1/runs/" + runId + "/packets/metadata"));
    expect(403, f.http.withKey(runToken).get("/api/v1/runs/" + otherRunId + "/packets/payload"));
  }
}
