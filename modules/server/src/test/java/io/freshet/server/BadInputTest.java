package io.freshet.server;

import io.freshet.store.testing.RigTest;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.api.PublicTokens;
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
    f = NodeFixture.start(new JsonObject().put("http.bodyLimitBytes", 64 * 1024).put("publisher.maxMetadataBytes", 4096));
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
    if (status != 409) {
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
    expect(400, f.http.get(feed + "?offset=-1&skipColumns=nope"));
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
}
