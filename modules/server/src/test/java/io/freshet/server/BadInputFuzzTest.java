package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.edge.PublicTokens;
import io.freshet.store.Environments;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generated bad input over every endpoint of the README's API table: malformed and truncated JSON,
 * wrong types, oversize bodies and metadata, NUL and invalid UTF-8 in ids, tags and query
 * parameters, SQL-looking tags, garbage offsets, forged handles, extreme windows, 100-tag filters,
 * bad tokens of every kind. Every answer must be a 4xx with a JSON message (never a 5xx, and no
 * hang: each request has a 5 s limit, and the slowest answer is printed), and a checksum of every
 * stored table must be unchanged afterwards. Then every way of reading environment A's feeds with
 * environment B's credentials is refused.
 */
@RigTest
class BadInputFuzzTest {

  private static final long SEED = 20261202L;
  private static NodeFixture f;
  private static String runId;
  private static String batchId;
  private static String handle;
  private static String otherKey;
  private static String devKey;
  private static String envId;

  /**
   * One generated request. {@code strict}: invalid input, which must get a 4xx with a JSON message.
   * Otherwise hostile but valid (a SQL-looking tag, a window past the cap, which is clamped): it must
   * not fail (no 5xx, no hang) and must change nothing it should not.
   */
  private record Case(String name, String method, String path, String body, String contentType, String authorization, boolean strict) {
    Case(String name, String method, String path, String body, String contentType, String authorization) {
      this(name, method, path, body, contentType, authorization, true);
    }

    Case valid() {
      return new Case(name, method, path, body, contentType, authorization, false);
    }
  }

  private record Outcome(Case c, int status, String body, String contentType, long ms) {}

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject().put("http.bodyLimitBytes", 64 * 1024).put("publisher.maxMetadataBytes", 4096));
    devKey = f.node.development().apiKey();
    envId = f.devEnvId();
    runId = f.http.trigger("fuzz", new JsonObject().put("metadata", new JsonObject().put("keep", "me")).put("tags", new JsonArray().add("fuzz")));
    Http.Response batch = f.http.post("/api/v2/tasks/batch", new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "item").put("payload", "a"))).encode());
    batchId = batch.json().getString("id");
    otherKey = Await.result(Environments.create(f.db.primary(), "fuzz-other", "STAGING"), 10).apiKey();
    f.db.awaitReplicaCaughtUp();
    handle = f.http.get("/realtime/v1/runs/" + runId + "?offset=-1").header("electric-handle");
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String checksum() {
    StringBuilder all = new StringBuilder();
    for (String table : List.of("environments", "batches", "task_counters", "task_runs")) {
      String sql = "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM " + table + " t";
      all.append(table).append('=').append(Await.result(f.db.primary().query(sql).execute(), 10).iterator().next().getString(0)).append(' ');
    }
    return all.toString();
  }

  private static String token(JsonObject header, JsonObject claims, String key) {
    String h = b64(header.encode());
    String p = b64(claims.encode());
    return h + "." + p + "." + (key == null ? "" : hmac(key, h + "." + p));
  }

  private static String hmac(String key, String data) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject claims(String sub, long exp, String... scopes) {
    return new JsonObject().put("sub", sub).put("pub", true).put("scopes", new JsonArray(List.of(scopes)))
        .put("iss", "https://id.trigger.dev").put("aud", "https://api.trigger.dev").put("exp", exp);
  }

  /** Truncations and corruptions of a valid JSON body. */
  private static List<String> mangled(String valid, Random random) {
    List<String> out = new ArrayList<>();
    for (int cut : new int[] {1, valid.length() / 3, valid.length() / 2, valid.length() - 1}) {
      out.add(valid.substring(0, Math.max(0, cut)));
    }
    out.add(valid.replace("\"", "'"));
    out.add(valid.replace("{", "["));
    out.add("[" + valid + "]");
    out.add("null");
    out.add("42");
    out.add("\"a string\"");
    out.add(valid + "}");
    char[] chars = valid.toCharArray();
    for (int i = 0; i < 3; i++) {
      char[] copy = chars.clone();
      copy[random.nextInt(copy.length)] = "{}[]:,\"\\x".charAt(random.nextInt(9));
      out.add(new String(copy));
    }
    return out;
  }

  private static List<Case> cases() {
    Random random = new Random(SEED);
    String bearer = "Bearer " + devKey;
    List<Case> cases = new ArrayList<>();
    String triggerBody = "{\"payload\":\"{}\",\"options\":{\"tags\":[\"a\"],\"metadata\":{\"x\":1}}}";
    String metadataBody = "{\"metadata\":{\"progress\":5}}";
    String batchBody = "{\"items\":[{\"task\":\"t\",\"payload\":\"a\"},{\"task\":\"t\",\"payload\":\"b\"}]}";
    String createBatchBody = "{\"runCount\":2,\"taskIdentifiers\":[\"t\"]}";
    String transitionBody = "{\"to\":\"executing\"}";
    record Endpoint(String method, String path, String valid) {}
    List<Endpoint> writes = List.of(
        new Endpoint("POST", "/api/v1/tasks/fuzz-task/trigger", triggerBody),
        new Endpoint("PUT", "/api/v1/runs/" + "RUN" + "/metadata", metadataBody),
        new Endpoint("POST", "/api/v1/runs/RUN/tags", "{\"tags\":[\"x\"]}"),
        new Endpoint("POST", "/api/v3/batches", createBatchBody),
        new Endpoint("POST", "/api/v2/tasks/batch", batchBody),
        new Endpoint("POST", "/engine/v1/runs/RUN/transitions", transitionBody));
    // 1. Malformed and truncated JSON on every JSON endpoint.
    for (Endpoint e : writes) {
      for (String body : mangled(e.valid(), random)) {
        if (isJsonObject(body)) {
          continue; // a mutation that is still a well-formed request is not bad input
        }
        cases.add(new Case("malformed " + e.path(), e.method(), e.path().replace("RUN", runId), body, "application/json", bearer));
      }
    }
    // 2. Wrong types.
    String[] wrongTriggers = {
        "{\"payload\":1,\"options\":7}", "{\"options\":{\"tags\":[1,2]}}",
        "{\"options\":{\"tags\":{\"a\":1}}}", "{\"options\":{\"metadata\":\"not json\"}}", "{\"options\":{\"metadata\":[1]}}", "{\"options\":{\"delay\":42}}",
        "{\"options\":{\"ttl\":{}}}", "{\"options\":{\"test\":\"yes\"}}", "{\"options\":{\"idempotencyKey\":5}}",
        "{\"options\":{\"parentRunId\":\"run_doesnotexist\"}}", "{\"options\":{\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}}",
        "{\"options\":{\"delay\":\"tomorrow-ish\"}}"};
    for (String body : wrongTriggers) {
      cases.add(new Case("wrong type trigger", "POST", "/api/v1/tasks/fuzz-task/trigger", body, "application/json", bearer));
    }
    String[] wrongMetadata = {
        "{\"metadata\":5}", "{\"operations\":{}}", "{\"operations\":[{\"type\":\"set\"}]}",
        "{\"operations\":[{\"type\":\"set\",\"key\":\"a\",\"value\":1},{\"type\":\"merge\",\"key\":\"b\"}]}",
        "{\"operations\":[{\"type\":\"increment\",\"key\":\"a\",\"value\":\"x\"}]}", "{\"operations\":[{\"type\":\"set\",\"key\":\"__proto__\",\"value\":1}]}",
        "{\"parentOperations\":\"x\"}", "{\"operations\":[1,2,3]}"};
    for (String body : wrongMetadata) {
      cases.add(new Case("wrong type metadata", "PUT", "/api/v1/runs/" + runId + "/metadata", body, "application/json", bearer));
    }
    for (String body : new String[] {"{\"tags\":[7]}", "{\"tags\":[\"" + "y".repeat(200) + "\"]}", "{}"}) {
      cases.add(new Case("wrong tags", "POST", "/api/v1/runs/" + runId + "/tags", body, "application/json", bearer));
    }
    for (String body : new String[] {"{\"runCount\":0}", "{\"runCount\":\"2\"}", "{\"runCount\":100000}", "{\"runCount\":2,\"taskIdentifiers\":[3]}"}) {
      cases.add(new Case("wrong batch", "POST", "/api/v3/batches", body, "application/json", bearer));
    }
    for (String body : new String[] {"{\"items\":[]}", "{\"items\":[{\"payload\":\"no task\"}]}", "{\"items\":\"x\"}",
        "{\"items\":[{\"task\":\"t\"},{\"task\":5}]}"}) {
      cases.add(new Case("wrong batch trigger", "POST", "/api/v2/tasks/batch", body, "application/json", bearer));
    }
    for (String body : new String[] {"{\"to\":\"flying\"}", "{}", "{\"to\":5}", "{\"to\":\"completed\",\"outputType\":7}"}) {
      cases.add(new Case("wrong transition", "POST", "/engine/v1/runs/" + runId + "/transitions", body, "application/json", bearer));
    }
    cases.add(new Case("items not ndjson", "POST", "/api/v3/batches/" + batchId + "/items", "{\"index\":0}", "application/json", bearer));
    cases.add(new Case("items bad line", "POST", "/api/v3/batches/" + batchId + "/items", "{\"index\":0,\"task\":\"t\"}\n{oops", "application/x-ndjson", bearer));
    cases.add(new Case("items bad index", "POST", "/api/v3/batches/" + batchId + "/items", "{\"index\":-1,\"task\":\"t\"}", "application/x-ndjson", bearer));
    // 3. Oversize bodies and metadata.
    cases.add(new Case("oversize body", "POST", "/api/v1/tasks/fuzz-task/trigger", "{\"payload\":\"" + "x".repeat(70 * 1024) + "\"}", "application/json", bearer));
    cases.add(new Case("oversize metadata", "PUT", "/api/v1/runs/" + runId + "/metadata", "{\"metadata\":{\"big\":\"" + "x".repeat(5000) + "\"}}", "application/json", bearer));
    cases.add(new Case("oversize trigger metadata", "POST", "/api/v1/tasks/fuzz-task/trigger",
        "{\"options\":{\"metadata\":{\"big\":\"" + "x".repeat(5000) + "\"}}}", "application/json", bearer));
    // 4. NUL and invalid UTF-8 in ids, tags, bodies and query parameters.
    for (String body : new String[] {
        "{\"payload\":\"a\\u0000b\"}", "{\"options\":{\"tags\":[\"t\\u0000\"]}}", "{\"options\":{\"idempotencyKey\":\"k\\u0000\"}}",
        "{\"options\":{\"metadata\":{\"a\\u0000\":1}}}", "{\"payload\":\"x\",\"options\":{\"ttl\":\"1h\\u0000\"}}"}) {
      cases.add(new Case("NUL in trigger", "POST", "/api/v1/tasks/fuzz-task/trigger", body, "application/json", bearer));
    }
    cases.add(new Case("NUL in a batch item", "POST", "/api/v2/tasks/batch",
        "{\"items\":[{\"task\":\"t\",\"payload\":\"fine\"},{\"task\":\"t\",\"payload\":\"bad\\u0000\"}]}", "application/json", bearer));
    cases.add(new Case("NUL in batch items", "POST", "/api/v3/batches/" + batchId + "/items", "{\"index\":0,\"task\":\"t\",\"payload\":\"\\u0000\"}",
        "application/x-ndjson", bearer));
    cases.add(new Case("NUL in tags", "POST", "/api/v1/runs/" + runId + "/tags", "{\"tags\":[\"\\u0000\"]}", "application/json", bearer));
    cases.add(new Case("NUL in metadata op", "PUT", "/api/v1/runs/" + runId + "/metadata",
        "{\"operations\":[{\"type\":\"set\",\"key\":\"k\",\"value\":\"\\u0000\"}]}", "application/json", bearer));
    cases.add(new Case("NUL in error", "POST", "/engine/v1/runs/" + runId + "/transitions",
        "{\"to\":\"failed\",\"error\":{\"message\":\"\\u0000\"}}", "application/json", bearer));
    for (String id : new String[] {"%00", "run_%00", "%FF%FE", "%C3%28", "run_%E2%82", "..%2F..%2Fetc", "x".repeat(300), "%27%3B--"}) {
      cases.add(new Case("bad id " + id, "GET", "/api/v3/runs/" + id, null, null, bearer));
      cases.add(new Case("bad id feed " + id, "GET", "/realtime/v1/runs/" + id + "?offset=-1", null, null, bearer));
      cases.add(new Case("bad id metadata " + id, "PUT", "/api/v1/runs/" + id + "/metadata", metadataBody, "application/json", bearer));
      cases.add(new Case("bad id batch feed " + id, "GET", "/realtime/v1/batches/" + id + "?offset=-1", null, null, bearer));
      cases.add(new Case("bad id cancel " + id, "POST", "/api/v2/runs/" + id + "/cancel", null, null, bearer));
    }
    cases.add(new Case("SQL-looking tag", "GET", "/realtime/v1/runs?tags=%27%3B%20DROP%20TABLE%20task_runs%3B%20--&offset=-1", null, null, bearer).valid());
    cases.add(new Case("SQL-looking tag on a run", "POST", "/api/v1/runs/" + runId + "/tags", "{\"tags\":[\"'; DROP TABLE task_runs; --\"]}",
        "application/json", bearer).valid());
    for (String tags : new String[] {"%00", "a%00b", "%FF", "a,b,c,d,e,f,g,h,i,j,k",
        String.join(",", java.util.stream.IntStream.range(0, 100).mapToObj(i -> "t" + i).toList()), "x".repeat(200), "%01"}) {
      cases.add(new Case("bad tag filter " + tags, "GET", "/realtime/v1/runs?tags=" + tags + "&offset=-1", null, null, bearer));
    }
    for (String statuses : new String[] {"RUNNING", "%00", "EXECUTING,%FF", "x".repeat(300), String.join(",", java.util.Collections.nCopies(40, "QUEUED"))}) {
      cases.add(new Case("bad status filter " + statuses, "GET", "/realtime/v1/runs?tags=fuzz&statuses=" + statuses + "&offset=-1", null, null, bearer));
    }
    // Packets: unsafe paths at presigning, and presigned URLs that are forged, expired or incomplete.
    for (String path : new String[] {"..%2Fx", "a%2F..%2Fb", "%2Fabs", "a%2F%2Fb", "a%00b", "a%5Cb", "%2E", "x".repeat(1100), "a%2F.%2Fb"}) {
      cases.add(new Case("bad packet path " + path, "PUT", "/api/v2/packets/" + path, null, null, bearer));
      cases.add(new Case("bad packet path get " + path, "GET", "/api/v1/packets/" + path, null, null, bearer));
    }
    String packetUrl = "/packets/" + envId + "/trigger/packet_fuzz/payload.json";
    for (String query : new String[] {"", "?expires=1", "?signature=00", "?expires=abc&signature=00", "?expires=1&signature=00",
        "?expires=99999999999&signature=" + "0".repeat(64), "?expires=%00&signature=%00"}) {
      cases.add(new Case("forged presigned upload " + query, "PUT", packetUrl + query, "{}", "application/json", null));
      cases.add(new Case("forged presigned download " + query, "GET", packetUrl + query, null, null, null));
    }
    cases.add(new Case("presigned env unknown", "GET", "/packets/env_nope/a.json?expires=99999999999&signature=00", null, null, null));
    cases.add(new Case("presigned no path", "GET", "/packets/" + envId, null, null, null));
    cases.add(new Case("run packet bad field", "GET", "/api/v1/runs/" + runId + "/packets/secrets", null, null, bearer));
    cases.add(new Case("run packet not offloaded", "GET", "/api/v1/runs/" + runId + "/packets/payload", null, null, bearer));
    // 5. Garbage offsets, forged handles, extreme windows.
    String feed = "/realtime/v1/runs/" + runId;
    for (String offset : new String[] {"abc", "-5", "1_x", "99999999999999999999_0", "%00", "1_", "_1", "0_0_0", "1e3_0"}) {
      cases.add(new Case("bad offset " + offset, "GET", feed + "?offset=" + offset + "&handle=" + handle, null, null, bearer));
    }
    cases.add(new Case("offset ahead", "GET", feed + "?offset=999_0&handle=" + handle, null, null, bearer));
    cases.add(new Case("no handle", "GET", feed + "?offset=3_0", null, null, bearer));
    for (String h : new String[] {"forged", "zzzz-0-1-abcdef", "node-9-1-abcdef", "%00", "x".repeat(500), handle + "x"}) {
      cases.add(new Case("forged handle " + h, "GET", feed + "?offset=1_0&handle=" + h, null, null, bearer));
    }
    for (String window : new String[] {"-1h", "1x", "24", "%00", "1d%FF", "h", "1000000000000000000000d", "%E2%82"}) {
      cases.add(new Case("window " + window, "GET", "/realtime/v1/runs?tags=fuzz&createdAt=" + window + "&offset=-1", null, null, bearer));
    }
    for (String window : new String[] {"99999999999w", "0s", "52w"}) { // parseable: clamped to realtime.maxCreatedAtWindowMs
      cases.add(new Case("window " + window, "GET", "/realtime/v1/runs?tags=fuzz&createdAt=" + window + "&offset=-1", null, null, bearer).valid());
    }
    // 6. Tokens and keys.
    long now = System.currentTimeMillis() / 1000;
    String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims(envId, now + 3600, "read:runs").encode()) + ".";
    String expired = token(new JsonObject().put("alg", "HS256"), claims(envId, now - 3600, "read:runs"), devKey);
    String foreignSigned = token(new JsonObject().put("alg", "HS256"), claims(envId, now + 3600, "read:runs"), otherKey);
    String valid = token(new JsonObject().put("alg", "HS256"), claims(envId, now + 3600, "read:runs:run_other"), devKey);
    String[] parts = valid.split("\\.");
    String tampered = parts[0] + "." + b64(claims(envId, now + 3600, "read:runs").encode()) + "." + parts[2];
    String hs512 = token(new JsonObject().put("alg", "HS512"), claims(envId, now + 3600, "read:runs"), devKey);
    for (String t : new String[] {none, expired, foreignSigned, tampered, hs512, "a.b.c", "not-a-token", "Bearer", "", "tr_dev_nope"}) {
      cases.add(new Case("token", "GET", feed + "?offset=-1", null, null, "Bearer " + t));
    }
    cases.add(new Case("wrong scope", "GET", feed + "?offset=-1", null, null, "Bearer " + valid));
    cases.add(new Case("public token on writes", "PUT", "/api/v1/runs/" + runId + "/metadata", metadataBody, "application/json", "Bearer " + valid));
    cases.add(new Case("secret key in ?token=", "GET", feed + "?offset=-1&token=" + devKey, null, null, null));
    cases.add(new Case("alg none in ?token=", "GET", feed + "?offset=-1&token=" + none, null, null, null));
    cases.add(new Case("no authorization", "POST", "/api/v1/tasks/fuzz-task/trigger", triggerBody, "application/json", null));
    cases.add(new Case("basic auth", "GET", feed + "?offset=-1", null, null, "Basic Zm9vOmJhcg=="));
    cases.add(new Case("claims without key", "POST", "/api/v1/auth/jwt/claims", "{}", "application/json", "Bearer tr_dev_wrong"));
    cases.add(new Case("unknown endpoint", "GET", "/api/v9/nothing", null, null, bearer));
    cases.add(new Case("unknown run retrieve", "GET", "/api/v3/runs/run_doesnotexist", null, null, bearer));
    cases.add(new Case("unknown run metadata", "PUT", "/api/v1/runs/run_doesnotexist/metadata", metadataBody, "application/json", bearer));
    cases.add(new Case("unknown batch items", "POST", "/api/v3/batches/batch_doesnotexist/items", "{\"index\":0,\"task\":\"t\"}", "application/x-ndjson", bearer));
    // 7. Random bytes as bodies.
    for (int i = 0; i < 20; i++) {
      byte[] bytes = new byte[1 + random.nextInt(200)];
      random.nextBytes(bytes);
      Endpoint e = writes.get(i % writes.size());
      cases.add(new Case("random bytes " + e.path(), e.method(), e.path().replace("RUN", runId), new String(bytes, StandardCharsets.ISO_8859_1),
          "application/json", bearer));
    }
    return cases;
  }

  private static boolean isJsonObject(String body) {
    try {
      return io.vertx.core.json.Json.decodeValue(body) instanceof JsonObject;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static Outcome send(HttpClient client, Case c) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.http.base + c.path())).timeout(Duration.ofSeconds(30)); // a hang guard, not a speed claim
    if (c.authorization() != null) {
      b.header("Authorization", c.authorization());
    }
    if (c.contentType() != null) {
      b.header("content-type", c.contentType());
    }
    HttpRequest.BodyPublisher body = c.body() == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(c.body().getBytes(c.name().startsWith("random") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8));
    b.method(c.method(), body);
    long start = System.nanoTime();
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Outcome(c, r.statusCode(), r.body(), r.headers().firstValue("content-type").orElse(""), (System.nanoTime() - start) / 1_000_000);
  }

  @Test
  void everyBadInputIsAClear4xxAndChangesNothingStored() throws Exception {
    List<Case> cases = cases();
    List<Case> ordered = new ArrayList<>(cases.stream().filter(Case::strict).toList());
    String before = checksum();
    double feedReads = f.metric("freshet_hydrate_queries_total");
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<String> wrong = new ArrayList<>();
    long slowest = 0;
    List<Case> valid = cases.stream().filter(c -> !c.strict()).toList();
    String afterInvalid = null;
    ordered.addAll(valid);
    for (Case c : ordered) {
      if (!c.strict() && afterInvalid == null) {
        f.db.awaitReplicaCaughtUp();
        afterInvalid = checksum(); // the hostile-but-valid ones may write (a tag that looks like SQL is still a tag)
      }
      Outcome o = send(client, c);
      slowest = Math.max(slowest, o.ms());
      boolean jsonMessage;
      try {
        Object parsed = io.vertx.core.json.Json.decodeValue(o.body());
        jsonMessage = parsed instanceof JsonObject j && j.getString("error") != null && !j.getString("error").isBlank()
            || o.status() == 409 && o.body().contains("must-refetch");
      } catch (RuntimeException e) {
        jsonMessage = false;
      }
      boolean bad = c.strict() ? o.status() < 400 || o.status() >= 500 || !jsonMessage || !o.contentType().startsWith("application/json")
          : o.status() >= 500;
      if (bad) {
        wrong.add(o.status() + " " + c.name() + " " + c.method() + " " + c.path().substring(0, Math.min(120, c.path().length()))
            + (c.body() == null ? "" : " body " + c.body().substring(0, Math.min(120, c.body().length()))) + " → " + o.body().substring(0, Math.min(200, o.body().length())));
      }
    }
    f.db.awaitReplicaCaughtUp();
    long strict = cases.stream().filter(Case::strict).count();
    System.out.println("bad-input fuzz: " + cases.size() + " inputs (" + strict + " invalid, " + (cases.size() - strict)
        + " hostile but valid), " + wrong.size() + " wrong, slowest answer " + slowest + " ms");
    assertThat(strict).as("invalid inputs generated").isGreaterThanOrEqualTo(200);
    assertThat(wrong).as("answers that were not a 4xx with a JSON message").isEmpty();
    assertThat(afterInvalid == null ? checksum() : afterInvalid).as("stored tables unchanged by the invalid inputs").isEqualTo(before);
    assertThat(f.metric("freshet_hydrate_queries_total")).as("the node is still up: it read feeds for the valid inputs").isGreaterThan(feedReads);
  }

  @Test
  void anotherEnvironmentsCredentialsReadNothingOfThisOne() throws Exception {
    Http other = f.http.withKey(otherKey);
    long now = System.currentTimeMillis() / 1000;
    String otherEnvId = Await.result(Environments.byApiKey(f.db.primary(), otherKey), 10).orElseThrow().id();
    String otherToken = PublicTokens.sign(otherKey, otherEnvId, List.of("read:runs", "read:tags:fuzz", "read:batch:" + batchId, "read:runs:" + runId),
        now, 3600);
    String devTokenForOtherEnv = token(new JsonObject().put("alg", "HS256"), claims(otherEnvId, now + 3600, "read:runs"), devKey);
    List<String> leaks = new ArrayList<>();
    for (String auth : new String[] {"Bearer " + otherKey, "Bearer " + otherToken, "Bearer " + devTokenForOtherEnv}) {
      Http as = new Http(f.http.base, null);
      for (String path : new String[] {"/realtime/v1/runs/" + runId + "?offset=-1", "/realtime/v1/runs?tags=fuzz&offset=-1",
          "/realtime/v1/batches/" + batchId + "?offset=-1", "/realtime/v1/runs/" + runId + "?offset=1_0&handle=" + handle,
          "/realtime/v1/runs/" + runId + "?offset=1_0&handle=" + handle + "&live=true", "/api/v3/runs/" + runId}) {
        Http.Response r = as.send(HttpRequest.newBuilder(URI.create(f.http.base + path)).header("Authorization", auth).GET());
        boolean refused = r.status() >= 400 && r.status() < 500;
        boolean leaked = r.body().contains("\"value\"") || r.body().contains("\"keep\"") || r.body().contains("\"metadata\"");
        if (r.status() == 200 && path.contains("tags=")) {
          // A tag feed of another environment is that environment's own (empty) feed: allowed, never our rows.
          refused = true;
        }
        if (!refused || leaked) {
          leaks.add(r.status() + " " + path + " as " + auth.substring(0, 20) + " → " + r.body().substring(0, Math.min(160, r.body().length())));
        }
      }
    }
    assertThat(other.get("/realtime/v1/runs/" + runId + "?offset=-1").status()).isEqualTo(404);
    assertThat(leaks).as("environment A's rows reached environment B's credentials").isEmpty();
  }
}
