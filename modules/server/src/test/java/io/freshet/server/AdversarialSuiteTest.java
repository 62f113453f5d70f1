package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.freshet.server.AdversarialInputs.Cred;
import io.freshet.server.AdversarialInputs.Feed;
import io.freshet.server.AdversarialInputs.Input;
import io.freshet.server.AdversarialInputs.World;
import io.freshet.store.Environments;
import io.freshet.store.testing.Await;
import io.freshet.store.testing.RigTest;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The edge as an attacker tries it, generated: {@link AdversarialInputs} makes well over a
 * thousand inputs from one seed over every endpoint (the write API, run, tag and batch feeds with
 * every parameter, streams, packets, the dashboard's stats, the probes, tokens and keys, raw
 * framing), sent one by one over raw sockets to one node on the real primary and lagging standby,
 * with two environments holding marked runs. Every answer must be:
 *
 * <ul>
 *   <li>below 500, and within a 20 s hang guard (a guard, not a speed claim: nothing here is timed);
 *   <li>for a 4xx, a JSON {@code {"error": ...}} (or Electric's must-refetch body for a 409);
 *   <li>free of every secret the credential may not see: the markers and ids of the other
 *       environment's runs, and of the runs its scopes do not cover (an id the request itself
 *       named is not a leak);
 *   <li>without an ERROR line or a stack trace in the log (captured as {@code HardenedEdgeTest} does);
 *   <li>for a refusal, without any change to the stored tables (a checksum before and after);
 *   <li>what the input expects, where that is known (a lone surrogate is a 400 that says so, a
 *       chunk index past 2^31 − 1 a 400, a token with a claim of the wrong type a 401, a
 *       presigned URL never on a forwarded host, a hostile run id never echoed).
 * </ul>
 *
 * Held feeds and stream reads are shortened by configuration (a 250 ms hold, 300 ms SSE, 1 s
 * stream timeout, 1.5 s request-header timeout) so that the suite runs in well under a minute.
 */
@RigTest
class AdversarialSuiteTest {

  static final long SEED = 20260320L;
  /** The hang guard: an answer (or a close) must come within this. Generous: the machine is shared. */
  static final int HANG_GUARD_MS = 20_000;

  private static NodeFixture f;
  private static World world;
  /** Answers that showed a group's secrets to a credential allowed to see them: the leak check looks where content does flow. */
  private static final Map<String, Integer> SEEN_WHERE_ALLOWED = new TreeMap<>();

  /** One answer as read off the socket: {@code status} 0 when the node closed without one. */
  record Answer(int status, Map<String, String> headers, String head, String body, long ms, boolean hung, int bytes) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Log events that must never follow a client's input: ERROR, or anything with a stack trace. */
  private static final class Alarms extends AppenderBase<ILoggingEvent> {
    final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    protected void append(ILoggingEvent e) {
      if (e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null) {
        events.add(e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage()
            + (e.getThrowableProxy() == null ? "" : " [" + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage() + "]"));
      }
    }
  }

  @BeforeAll
  static void start() {
    NodeFixture.applyDelay(150);
    f = NodeFixture.start(new JsonObject()
        .put("http.bodyLimitBytes", 64 * 1024).put("publisher.maxMetadataBytes", 4096).put("packets.maxBytes", 100_000)
        .put("streams.maxChunkBytes", 4096).put("streams.maxStreamsPerRun", 64)
        // Held requests answer quickly, so that a thousand inputs fit in well under a minute.
        .put("router.livePollTimeoutMs", 250).put("realtime.sseMaxDurationMs", 300).put("streams.defaultTimeoutSeconds", 1)
        .put("http.requestHeaderTimeoutMs", 1500).put("streams.writerIdleTimeoutMs", 3000)
        // One key and a few tokens send everything: the per-credential rates (EdgeLimitsTest's subject) would
        // answer most feed inputs 429 before they reach the checks this suite is about.
        .put("realtime.feedOpensPerSecPerSecretKey", 1_000_000).put("realtime.feedOpensPerSecPerToken", 1_000_000)
        .put("realtime.maxFeedsPerToken", 100_000).put("realtime.maxFeedsPerEnv", 100_000));
    world = buildWorld(new Random(SEED));
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  // --- the world: two environments, marked runs, streams, packets, credentials ---------------------

  private static World buildWorld(Random random) {
    World w = new World();
    w.hostPort = "127.0.0.1:" + f.node.httpPort();
    w.nodeId = f.node.nodeId();
    w.keyA = f.node.development().apiKey();
    w.envA = f.devEnvId();
    var b = Await.result(Environments.create(f.db.primary(), "adv-other", "STAGING"), 10);
    w.keyB = b.apiKey();
    w.envB = b.id();
    Http a = f.http;
    Http hb = f.http.withKey(w.keyB);
    for (String g : List.of("A1", "A2", "A3", "B1", "B3", "PA", "PB")) {
      w.secrets.put(g, new ArrayList<>());
      w.ids.put(g, new ArrayList<>());
    }
    w.runOf.put("A1", markedRun(w, a, "A1", "adv-alpha", List.of("shared", "alpha"), random));
    w.runOf.put("A2", markedRun(w, a, "A2", "adv-beta", List.of("shared", "beta"), random));
    w.runOf.put("B1", markedRun(w, hb, "B1", "adv-alpha", List.of("shared", "alpha"), random));
    w.batchA = markedBatch(w, a, "A3", random);
    w.batchB = markedBatch(w, hb, "B3", random);
    w.scratch = plainRun(a, "adv-scratch", "{\"payload\":\"{}\",\"options\":{\"tags\":[\"scratch\"]}}");
    w.transit = plainRun(a, "adv-scratch", "{\"payload\":\"{}\"}");
    w.writerRun = plainRun(a, "adv-writer", "{\"payload\":\"{}\"}");
    w.offloaded = plainRun(a, "adv-packet", "{\"payload\":\"" + AdversarialInputs.PACKET_PATH + "\",\"options\":{\"payloadType\":\"application/store\"}}");
    Http.Response batch = a.post("/api/v3/batches", "{\"runCount\":2,\"taskIdentifiers\":[\"t\"]}");
    assertThat(batch.status()).as(batch.body()).isEqualTo(202);
    w.batchScratch = batch.json().getString("id");
    // Streams: A1's and B1's complete, their chunks marked; open ones on the writer run, one per input that needs one.
    markedStream(w, a, "A1", random);
    markedStream(w, hb, "B1", random);
    for (int i = 0; i < 24; i++) {
      String key = "w" + i;
      assertThat(a.put("/realtime/v1/streams/" + w.writerRun + "/self/" + key, "").status()).isEqualTo(202);
      w.openStreams.add(key);
    }
    // Packets: the same path in both environments, different marked bytes.
    String path = URLEncoder.encode(AdversarialInputs.PACKET_PATH, StandardCharsets.UTF_8);
    w.getA = markedPacket(w, a, "PA", path, random);
    w.getB = markedPacket(w, hb, "PB", path, random);
    w.putScratch = local(a.put("/api/v2/packets/" + URLEncoder.encode("trigger/packet_scratch/payload.json", StandardCharsets.UTF_8), "")
        .json().getString("presignedUrl"));
    credentials(w, random);
    f.db.awaitReplicaCaughtUp();
    feed(w, a, "A1", "/realtime/v1/runs/" + w.run("A1"));
    feed(w, a, "tags:shared", "/realtime/v1/runs?tags=shared");
    feed(w, a, "batch:A", "/realtime/v1/batches/" + w.batchA);
    feed(w, a, "all", "/realtime/v1/runs");
    feed(w, hb, "B1", "/realtime/v1/runs/" + w.run("B1"));
    return w;
  }

  private static String marker(String group, String what, Random random) {
    return "zq" + group.toLowerCase(Locale.ROOT) + what + Long.toString(Math.abs(random.nextLong()), 36);
  }

  private static String markedRun(World w, Http http, String group, String task, List<String> tags, Random random) {
    String meta = marker(group, "meta", random);
    String payload = marker(group, "payload", random);
    w.secrets.get(group).addAll(List.of(meta, payload));
    String body = new JsonObject().put("payload", new JsonObject().put("m", payload).encode()).put("options", new JsonObject()
        .put("payloadType", "application/json").put("tags", new JsonArray(tags)).put("metadata", new JsonObject().put("marker", meta))).encode();
    Http.Response r = http.post("/api/v1/tasks/" + task + "/trigger", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    String runId = r.json().getString("id");
    w.ids.get(group).addAll(List.of(runId, internalId(runId)));
    return runId;
  }

  private static String markedBatch(World w, Http http, String group, Random random) {
    String payload = marker(group, "payload", random);
    Http.Response r = http.post("/api/v2/tasks/batch", new JsonObject().put("items", new JsonArray()
        .add(new JsonObject().put("task", "adv-item").put("payload", new JsonObject().put("m", payload).encode()))).encode());
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    String batchId = r.json().getString("id");
    Row row = Await.result(f.db.primary().preparedQuery("SELECT friendly_id, id FROM task_runs WHERE batch_id = $1").execute(Tuple.of(batchId)), 10)
        .iterator().next();
    String meta = marker(group, "meta", random);
    http.setMetadata(row.getString(0), new JsonObject().put("marker", meta));
    w.secrets.get(group).addAll(List.of(meta, payload));
    w.ids.get(group).addAll(List.of(row.getString(0), row.getString(1), batchId));
    w.runOf.put(group, row.getString(0));
    return batchId;
  }

  private static void markedStream(World w, Http http, String group, Random random) {
    String chunk = marker(group, "chunk", random);
    w.secrets.get(group).add(chunk);
    String path = "/realtime/v1/streams/" + w.run(group) + "/self/out";
    assertThat(http.put(path, "").status()).isEqualTo(202);
    Http.Response wrote = http.send(HttpRequest.newBuilder(URI.create(http.base + path)).header("X-Client-Id", "setup")
        .POST(HttpRequest.BodyPublishers.ofString("{\"m\":\"" + chunk + "\"}\n{\"m\":\"" + chunk + "\"}\n")));
    assertThat(wrote.status()).as(wrote.body()).isEqualTo(200);
  }

  private static String markedPacket(World w, Http http, String group, String path, Random random) {
    String bytes = marker(group, "bytes", random);
    w.secrets.get(group).add(bytes);
    String put = http.put("/api/v2/packets/" + path, "").json().getString("presignedUrl");
    Http.Response stored = http.withKey(null).send(HttpRequest.newBuilder(URI.create(put)).header("content-type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"m\":\"" + bytes + "\"}")));
    assertThat(stored.status()).as(stored.body()).isEqualTo(200);
    return local(http.get("/api/v1/packets/" + path).json().getString("presignedUrl"));
  }

  private static String plainRun(Http http, String task, String body) {
    Http.Response r = http.post("/api/v1/tasks/" + task + "/trigger", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getString("id");
  }

  private static String internalId(String friendlyId) {
    return Await.result(f.db.primary().preparedQuery("SELECT id FROM task_runs WHERE friendly_id = $1").execute(Tuple.of(friendlyId)), 10)
        .iterator().next().getString(0);
  }

  /** A presigned URL as the path and query on this node. */
  private static String local(String url) {
    return url.substring(f.http.base.length());
  }

  private static void feed(World w, Http http, String name, String path) {
    Http.Response r = http.get(path + (path.contains("?") ? "&" : "?") + "offset=-1");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    w.feeds.put(name, new Feed(path, r.header("electric-handle"), r.header("electric-offset")));
  }

  /** Every credential the inputs use, with the marked runs each may see (the README's scope table). */
  private static void credentials(World w, Random random) {
    Set<String> allA = Set.of("A1", "A2", "A3");
    w.creds.put("keyA", new Cred("keyA", "Bearer " + w.keyA, allA));
    w.creds.put("keyB", new Cred("keyB", "Bearer " + w.keyB, Set.of("B1", "B3")));
    w.creds.put("none", new Cred("none", null, Set.of()));
    w.creds.put("basic", new Cred("basic", "Basic Zm9vOmJhcg==", Set.of()));
    w.creds.put("bearer-alone", new Cred("bearer-alone", "Bearer", Set.of()));
    w.creds.put("bearer-empty", new Cred("bearer-empty", "Bearer ", Set.of()));
    char last = w.keyA.charAt(w.keyA.length() - 1);
    w.creds.put("keyA-altered", new Cred("keyA-altered", "Bearer " + w.keyA.substring(0, w.keyA.length() - 1) + (last == 'a' ? 'b' : 'a'), Set.of()));
    w.creds.put("random-key", new Cred("random-key", "Bearer tr_dev_" + Long.toString(Math.abs(random.nextLong()), 36) + "X", Set.of()));
    token(w, "tokA:read:runs", w.keyA, w.envA, allA, "read:runs");
    token(w, "tokA:admin", w.keyA, w.envA, allA, "admin");
    token(w, "tokA:read:all", w.keyA, w.envA, allA, "read:all");
    token(w, "tokA:runs:*", w.keyA, w.envA, allA, "read:runs:*");
    token(w, "tokA:tasks", w.keyA, w.envA, allA, "read:tasks");
    token(w, "tokA:run:A1", w.keyA, w.envA, Set.of("A1"), "read:runs:" + w.run("A1"));
    token(w, "tokA:tag:beta", w.keyA, w.envA, Set.of("A2"), "read:tags:beta");
    token(w, "tokA:tag:shared", w.keyA, w.envA, Set.of("A1", "A2"), "read:tags:shared");
    token(w, "tokA:batch:A", w.keyA, w.envA, Set.of("A3"), "read:batch:" + w.batchA);
    token(w, "tokA:task:alpha", w.keyA, w.envA, Set.of("A1"), "read:tasks:adv-alpha");
    token(w, "tokA:tags", w.keyA, w.envA, Set.of("A1", "A2"), "read:tags");
    token(w, "tokA:batch", w.keyA, w.envA, Set.of("A3"), "read:batch");
    token(w, "tokA:run:B1", w.keyA, w.envA, Set.of(), "read:runs:" + w.run("B1"));
    token(w, "tokA:no-scopes", w.keyA, w.envA, Set.of());
    token(w, "tokB:run:B1", w.keyB, w.envB, Set.of("B1"), "read:runs:" + w.run("B1"));
    token(w, "tokB:read:runs", w.keyB, w.envB, Set.of("B1", "B3"), "read:runs");
  }

  private static void token(World w, String name, String key, String envId, Set<String> sees, String... scopes) {
    w.creds.put(name, new Cred(name, "Bearer " + Tokens.sign(key, Tokens.claims(envId, List.of(scopes))), sees));
  }

  // --- the suite ----------------------------------------------------------------------------------

  @Test
  void everyGeneratedInputIsAnsweredBelow500WithAJsonErrorNoLeakNoStackTraceAndNoStoredChange() throws Exception {
    List<Input> inputs = AdversarialInputs.generate(world, SEED);
    Alarms alarms = new Alarms();
    alarms.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(alarms);
    List<String> problems = new ArrayList<>();
    Map<String, Integer> byStatus = new TreeMap<>();
    Map<String, Integer> byFamily = new LinkedHashMap<>();
    long started = System.currentTimeMillis();
    long slowest = 0;
    String slowestInput = "";
    try {
      String last = checksum();
      boolean fresh = true;
      List<Input> halfOpen = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        Input in = inputs.get(i);
        if (in.halfOpen) {
          halfOpen.add(in);
          continue;
        }
        String before = fresh ? last : checksum();
        int alarmsBefore = alarms.events.size();
        Answer answer = exchange(in.bytes(world.hostPort));
        String after = checksum();
        judge(i, in, answer, before, after, alarms.events.subList(alarmsBefore, alarms.events.size()), problems);
        boolean refusal = answer.status() == 0 || answer.status() >= 400;
        fresh = refusal && !in.keepsLinesBeforeRefusal;
        last = after;
        count(in, answer, byStatus, byFamily);
        if (answer.ms() > slowest) {
          slowest = answer.ms();
          slowestInput = in.toString();
        }
      }
      // Half-open sockets all at once: each must be closed by the node (http.requestHeaderTimeoutMs, 1.5 s here) without an answer.
      String before = checksum();
      int alarmsBefore = alarms.events.size();
      List<Answer> closes = halfOpen(halfOpen);
      String after = checksum();
      for (int i = 0; i < halfOpen.size(); i++) {
        judge(inputs.indexOf(halfOpen.get(i)), halfOpen.get(i), closes.get(i), before, after,
            alarms.events.subList(alarmsBefore, alarms.events.size()), problems);
        count(halfOpen.get(i), closes.get(i), byStatus, byFamily);
      }
    } finally {
      root.detachAppender(alarms);
    }
    long seconds = (System.currentTimeMillis() - started) / 1000;
    System.out.printf(Locale.ROOT, "adversarial suite: %d inputs (seed %d) in %d s; by status %s; by family %s; secrets shown where allowed %s;"
        + " slowest answer %d ms (%s); %d problems%n", inputs.size(), SEED, seconds, byStatus, byFamily, SEEN_WHERE_ALLOWED, slowest, slowestInput,
        problems.size());
    problems.stream().limit(80).forEach(p -> System.out.println("  " + p));

    assertThat(inputs).as("generated inputs").hasSizeGreaterThanOrEqualTo(1000);
    assertThat(problems).as("inputs that broke a rule (first 80 printed above)").isEmpty();
    assertThat(SEEN_WHERE_ALLOWED.keySet()).as("every group's secrets reached a credential allowed to see them (else the leak check proves nothing)")
        .containsAll(world.groups());
    Long wrapped = Await.result(f.db.primary().query("SELECT count(*) FROM stream_chunks WHERE chunk_index < 0").execute(), 10)
        .iterator().next().getLong(0);
    assertThat(wrapped).as("chunk indexes that wrapped negative").isZero();
    String a1Metadata = Await.result(f.db.primary().preparedQuery("SELECT metadata FROM task_runs WHERE friendly_id = $1")
        .execute(Tuple.of(world.run("A1"))), 10).iterator().next().getString(0);
    assertThat(a1Metadata).as("the marked runs were never written: their markers are where the leak check looks").contains(world.secrets.get("A1").get(0));
    assertThat(f.http.get("/health/live").status()).as("the node is still live").isEqualTo(200);
    assertThat(f.http.get("/realtime/v1/runs/" + world.run("A1") + "?offset=-1").body()).as("and serves its key's feeds")
        .contains(world.secrets.get("A1").get(0));
  }

  private static void count(Input in, Answer answer, Map<String, Integer> byStatus, Map<String, Integer> byFamily) {
    byStatus.merge(answer.status() == 0 ? "closed" : Integer.toString(answer.status()), 1, Integer::sum);
    byFamily.merge(in.family, 1, Integer::sum);
  }

  /** Every rule for one answer; each broken one adds a line to {@code problems}. */
  private static void judge(int index, Input in, Answer a, String before, String after, List<String> alarms, List<String> problems) {
    String who = "#" + index + " " + in + " → " + (a.status() == 0 ? "closed" : a.status()) + " " + snippet(a.body());
    if (a.hung()) {
      problems.add(who + ": no answer or close within " + HANG_GUARD_MS + " ms (hang guard)");
    }
    if (a.status() >= 500) {
      problems.add(who + ": a 5xx");
    }
    if (in.halfOpen) {
      if (a.status() != 0 || a.bytes() > 0) {
        problems.add(who + ": a half-open request was answered instead of closed");
      }
    } else if (a.status() == 0 && !a.hung() && !in.mayCloseSilently) {
      problems.add(who + ": closed without an answer");
    }
    if (!in.expect.isEmpty() && a.status() != 0 && !in.expect.contains(a.status())) {
      problems.add(who + ": expected " + (in.expect == AdversarialInputs.REFUSED ? "a 4xx" : in.expect));
    }
    if (a.status() >= 400 && a.status() < 500 && !"HEAD".equals(in.method) && !(a.status() == 409 && a.body().contains("must-refetch"))
        && !jsonError(a)) {
      problems.add(who + ": a 4xx without a JSON {\"error\": ...} body");
    }
    if (in.mustSay != null && !a.body().contains(in.mustSay)) {
      problems.add(who + ": the answer does not say \"" + in.mustSay + "\"");
    }
    if (in.check != null && a.status() != 0 && !in.check.test(a)) {
      problems.add(who + ": " + in.checkName + " does not hold");
    }
    String request = in.requestText(world.hostPort);
    String answer = a.head() + "\n" + a.body();
    for (String group : world.groups()) {
      if (in.visible().contains(group)) {
        if (world.secrets.get(group).stream().anyMatch(answer::contains)) {
          SEEN_WHERE_ALLOWED.merge(group, 1, Integer::sum);
        }
        continue;
      }
      for (String secret : world.secrets.get(group)) {
        if (answer.contains(secret)) {
          problems.add(who + ": LEAK of " + group + "'s content (" + secret + ") to " + (in.cred == null ? "nobody" : in.cred.name()));
        }
      }
      for (String id : world.ids.get(group)) {
        if (answer.contains(id) && !request.contains(id)) {
          problems.add(who + ": LEAK of " + group + "'s id " + id + " to " + (in.cred == null ? "nobody" : in.cred.name()));
        }
      }
    }
    for (String alarm : alarms) {
      problems.add(who + ": logged " + alarm);
    }
    boolean refusal = a.status() == 0 || a.status() >= 400;
    if (refusal && !in.keepsLinesBeforeRefusal && !before.equals(after)) {
      problems.add(who + ": a refused input changed the stored tables");
    }
  }

  private static boolean jsonError(Answer a) {
    String type = a.header("content-type");
    if (type == null || !type.startsWith("application/json")) {
      return false;
    }
    try {
      return Json.decodeValue(a.body()) instanceof JsonObject j && j.getValue("error") instanceof String e && !e.isBlank();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static String snippet(String body) {
    String s = body.replace("\n", "⏎");
    return s.length() > 160 ? s.substring(0, 160) + "…" : s;
  }

  /**
   * A checksum of every stored table (the heartbeat's excepted: the lag sampler writes it on its
   * own), in one query.
   */
  private static String checksum() {
    StringBuilder sql = new StringBuilder("SELECT ");
    List<String> tables = List.of("environments", "batches", "task_counters", "task_runs", "realtime_streams", "stream_chunks", "packets");
    for (int i = 0; i < tables.size(); i++) {
      sql.append(i == 0 ? "" : " || ' ' || ").append("(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM ")
          .append(tables.get(i)).append(" t)");
    }
    return Await.result(f.db.primary().query(sql.toString()).execute(), 10).iterator().next().getString(0);
  }

  // --- the wire -----------------------------------------------------------------------------------

  /** Sends the bytes on a new connection and reads until the node closes it (every structured input says Connection: close). */
  static Answer exchange(byte[] request) {
    long start = System.nanoTime();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", f.node.httpPort()), 5000);
      socket.setSoTimeout(HANG_GUARD_MS);
      try {
        socket.getOutputStream().write(request);
        socket.getOutputStream().flush();
      } catch (IOException refusedEarly) {
        // The node answered and closed before taking the whole body (a 413, a refused framing): read what it said.
      }
      return parse(readUntilClosed(socket.getInputStream()), (System.nanoTime() - start) / 1_000_000, false);
    } catch (SocketTimeoutException e) {
      return new Answer(0, Map.of(), "", "", (System.nanoTime() - start) / 1_000_000, true, 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot reach the node: " + e, e);
    }
  }

  /** Opens every half-open input at once, then waits for each to be closed. */
  private static List<Answer> halfOpen(List<Input> inputs) throws IOException {
    long start = System.nanoTime();
    List<Socket> sockets = new ArrayList<>();
    try {
      for (Input in : inputs) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", f.node.httpPort()), 5000);
        s.setSoTimeout(HANG_GUARD_MS);
        s.getOutputStream().write(in.bytes(world.hostPort));
        s.getOutputStream().flush();
        sockets.add(s);
      }
      List<Answer> answers = new ArrayList<>();
      for (Socket s : sockets) {
        try {
          answers.add(parse(readUntilClosed(s.getInputStream()), (System.nanoTime() - start) / 1_000_000, false));
        } catch (SocketTimeoutException e) {
          answers.add(new Answer(0, Map.of(), "", "", (System.nanoTime() - start) / 1_000_000, true, 0));
        }
      }
      return answers;
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  private static byte[] readUntilClosed(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[16384];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (java.net.SocketException reset) {
      // a reset after the answer is a close too
    }
    return out.toByteArray();
  }

  /** The first response in the bytes: status, headers (lower-case names), body (de-chunked); what follows stays in the body. */
  static Answer parse(byte[] bytes, long ms, boolean hung) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (bytes.length == 0 || !text.startsWith("HTTP/") || end < 0) {
      return new Answer(0, Map.of(), text, "", ms, hung, bytes.length);
    }
    String head = text.substring(0, end);
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].substring(9, 12));
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
    }
    byte[] rest = java.util.Arrays.copyOfRange(bytes, end + 4, bytes.length);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      rest = dechunk(rest);
    }
    return new Answer(status, headers, head, new String(rest, StandardCharsets.UTF_8), ms, hung, bytes.length);
  }

  private static byte[] dechunk(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < bytes.length) {
      int eol = indexOf(bytes, at);
      if (eol < 0) {
        break;
      }
      String size = new String(bytes, at, eol - at, StandardCharsets.ISO_8859_1).split(";")[0].trim();
      int n;
      try {
        n = Integer.parseInt(size, 16);
      } catch (NumberFormatException e) {
        out.write(bytes, at, bytes.length - at); // not chunked after all: keep the rest as it is
        break;
      }
      if (n == 0) {
        break;
      }
      at = eol + 2;
      out.write(bytes, at, Math.min(n, bytes.length - at));
      at += n + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i + 1 < bytes.length; i++) {
      if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
