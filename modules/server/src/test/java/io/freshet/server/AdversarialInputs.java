package io.freshet.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The inputs of {@link AdversarialSuiteTest}: generated from one seed over every endpoint of the
 * API table, each as the bytes an attacker would put on a socket (so nothing a Java client refuses
 * to send is out of reach). Each input says who sends it ({@link Cred}: which runs its credential
 * may see) and, where the answer is known, what it must be; the rules every answer obeys (no 5xx,
 * a JSON error, no leak, no stack trace, nothing stored by a refusal) are the test's.
 *
 * <p>The families follow issue 20 and the existing fuzz: malformed, mistyped, oversize and
 * non-storable write bodies (lone surrogates, NUL, invalid UTF-8), hostile run ids (3,000
 * characters, bidi overrides), every realtime feed with every parameter and every credential,
 * stream writers past chunk index 2^31 − 1, packets with forged signatures and forwarded hosts,
 * tokens with claims of the wrong type, random keys, probes, and framing only a raw socket sends.
 */
final class AdversarialInputs {

  /** Who sends an input, and which groups of the world's secrets its credential may see. */
  record Cred(String name, String authorization, Set<String> sees) {
    boolean isToken() {
      return authorization != null && authorization.startsWith("Bearer ey");
    }

    String token() {
      return authorization.substring(7);
    }
  }

  /** A feed opened during set-up: its path, handle and head offset. */
  record Feed(String path, String handle, String offset) {}

  /**
   * Two environments and what they hold. Secrets are grouped by run: {@code A1}, {@code A2},
   * {@code A3} (in batch A) are environment A's marked runs, {@code B1}, {@code B3} (in batch B)
   * environment B's, {@code PA} and {@code PB} the bytes of each environment's packet. The marked
   * runs are never written after set-up, so each group's markers (in metadata, payload, stream
   * chunks) and ids stay where they were put; the scratch runs take every write that succeeds.
   */
  static final class World {
    String hostPort;
    String nodeId;
    String keyA;
    String keyB;
    String envA;
    String envB;
    final Map<String, String> runOf = new LinkedHashMap<>();
    final Map<String, List<String>> secrets = new LinkedHashMap<>();
    final Map<String, List<String>> ids = new LinkedHashMap<>();
    String batchA;
    String batchB;
    String batchScratch;
    /** Metadata, tags and retrieves. */
    String scratch;
    /** Transitions and cancels. */
    String transit;
    /** Stream writers: {@link #openStreams} are registered on it, one for each input that needs an open stream. */
    String writerRun;
    /** A run whose payload is offloaded to {@link #PACKET_PATH}. */
    String offloaded;
    final List<String> openStreams = new ArrayList<>();
    private int nextOpenStream;
    final Map<String, Cred> creds = new LinkedHashMap<>();
    final Map<String, Feed> feeds = new LinkedHashMap<>();
    /** Presigned URLs as path and query on this node: A's and B's packet downloads, an upload of a fresh path. */
    String getA;
    String getB;
    String putScratch;

    Cred cred(String name) {
      Cred c = creds.get(name);
      if (c == null) {
        throw new IllegalArgumentException("no credential " + name);
      }
      return c;
    }

    String run(String group) {
      return runOf.get(group);
    }

    String openStream() {
      if (nextOpenStream >= openStreams.size()) {
        throw new IllegalStateException("register more open streams in set-up");
      }
      return openStreams.get(nextOpenStream++);
    }

    /** Every group of secrets; a credential may see {@link Cred#sees} of them. */
    Set<String> groups() {
      return secrets.keySet();
    }
  }

  static final String PACKET_PATH = "trigger/packet_adv/payload.json";
  static final String JSON = "application/json";
  static final String NDJSON = "application/x-ndjson";
  /** Any 4xx: a refusal whose exact status is not the point. */
  static final Set<Integer> REFUSED = IntStream.range(400, 500).boxed().collect(Collectors.toUnmodifiableSet());

  /** One input: built fluently by the generator, sent as bytes by the test. */
  static final class Input {
    final String family;
    final String name;
    final String method;
    final String target;
    final Cred cred;
    final Map<String, String> headers = new LinkedHashMap<>();
    byte[] body;
    byte[] raw;
    /** Empty: any status below 500. */
    Set<Integer> expect = Set.of();
    String mustSay;
    final Set<String> alsoSees = new LinkedHashSet<>();
    Predicate<AdversarialSuiteTest.Answer> check;
    String checkName;
    boolean authInQuery;
    /** A partial request that never ends: the node must close it without an answer. */
    boolean halfOpen;
    /** The connection may be closed without any answer (malformed framing a parser may drop). */
    boolean mayCloseSilently;
    /** A stream writer's body refused mid-way keeps the lines before the refused one (documented). */
    boolean keepsLinesBeforeRefusal;

    Input(String family, String name, String method, String target, Cred cred) {
      this.family = family;
      this.name = name;
      this.method = method;
      this.target = target;
      this.cred = cred;
    }

    Input body(String text) {
      this.body = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    Input body(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    Input json(String text) {
      return body(text).header("Content-Type", JSON);
    }

    Input header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    Input expect(Integer... statuses) {
      this.expect = Set.of(statuses);
      return this;
    }

    Input refused() {
      this.expect = REFUSED;
      return this;
    }

    Input says(String text) {
      this.mustSay = text;
      return this;
    }

    Input sees(String... groups) {
      alsoSees.addAll(List.of(groups));
      return this;
    }

    Input check(String what, Predicate<AdversarialSuiteTest.Answer> predicate) {
      this.checkName = what;
      this.check = predicate;
      return this;
    }

    Input tokenInQuery() {
      this.authInQuery = true;
      return this;
    }

    boolean strict() {
      return !expect.isEmpty() && expect.stream().allMatch(s -> s >= 400);
    }

    /** Who may be seen in the answer: the credential's runs, and what the input itself unlocks (a presigned URL). */
    Set<String> visible() {
      Set<String> all = new LinkedHashSet<>(alsoSees);
      if (cred != null) {
        all.addAll(cred.sees());
      }
      return all;
    }

    /** The bytes on the wire: as given for raw inputs, else a request with Host, Connection: close and a Content-Length. */
    byte[] bytes(String hostPort) {
      if (raw != null) {
        return raw;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(hostPort).append("\r\n");
      if (cred != null && cred.authorization() != null && !authInQuery && !headers.containsKey("Authorization")) {
        head.append("Authorization: ").append(cred.authorization()).append("\r\n");
      }
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      if (body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("Connection: close\r\n\r\n");
      out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.writeBytes(body);
      }
      return out.toByteArray();
    }

    /** The request as text, for telling an id the client sent from one the answer leaked. */
    String requestText(String hostPort) {
      return new String(bytes(hostPort), StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
      String t = target == null ? new String(raw, 0, Math.min(raw.length, 100), StandardCharsets.ISO_8859_1).replace("\r\n", "⏎") : target;
      return family + "/" + name + " " + (method == null ? "" : method + " ") + (t.length() > 140 ? t.substring(0, 140) + "…" : t)
          + (cred == null ? "" : " as " + cred.name() + (authInQuery ? " (?token=)" : ""));
    }
  }

  private final World w;
  private final Random random;
  private final List<Input> out = new ArrayList<>();

  private AdversarialInputs(World w, long seed) {
    this.w = w;
    this.random = new Random(seed);
  }

  /** Every input, in a fixed order from {@code seed}. */
  static List<Input> generate(World w, long seed) {
    AdversarialInputs g = new AdversarialInputs(w, seed);
    g.writeBodies();
    g.writeCredentials();
    g.runIds();
    g.feedsByCredential();
    g.borrowedHandles();
    g.randomFeeds(260);
    g.streams();
    g.packets();
    g.badTokens();
    g.randomKeys();
    g.probes();
    g.framing();
    return g.out;
  }

  private Input add(String family, String name, String method, String target, Cred cred) {
    Input in = new Input(family, name, method, target, cred);
    out.add(in);
    return in;
  }

  // --- write API: bodies --------------------------------------------------------------------------

  private record Endpoint(String name, String method, String path, String valid, String type, boolean runScoped) {}

  private List<Endpoint> writeEndpoints() {
    return List.of(
        new Endpoint("trigger", "POST", "/api/v1/tasks/adv-scratch/trigger",
            "{\"payload\":\"{}\",\"options\":{\"tags\":[\"scratch\"],\"metadata\":{\"x\":1}}}", JSON, false),
        new Endpoint("metadata", "PUT", "/api/v1/runs/" + w.scratch + "/metadata", "{\"metadata\":{\"progress\":5}}", JSON, true),
        new Endpoint("tags", "POST", "/api/v1/runs/" + w.scratch + "/tags", "{\"tags\":[\"scratch\"]}", JSON, true),
        new Endpoint("batch-create", "POST", "/api/v3/batches", "{\"runCount\":2,\"taskIdentifiers\":[\"t\"]}", JSON, false),
        new Endpoint("batch-trigger", "POST", "/api/v2/tasks/batch", "{\"items\":[{\"task\":\"adv-scratch\",\"payload\":\"a\"}]}", JSON, false),
        new Endpoint("batch-items", "POST", "/api/v3/batches/" + w.batchScratch + "/items", "{\"index\":0,\"task\":\"t\",\"payload\":\"a\"}",
            NDJSON, true),
        new Endpoint("transition", "POST", "/engine/v1/runs/" + w.transit + "/transitions", "{\"to\":\"executing\"}", JSON, true),
        new Endpoint("cancel", "POST", "/api/v2/runs/" + w.transit + "/cancel", "{\"reason\":\"x\"}", JSON, true),
        new Endpoint("retrieve", "GET", "/api/v3/runs/" + w.scratch, "{\"x\":1}", JSON, true),
        new Endpoint("claims", "POST", "/api/v1/auth/jwt/claims", "{}", JSON, false));
  }

  /**
   * Where a lone surrogate or a NUL goes, per endpoint: {@code @S@} is replaced by a JSON escape.
   * Keys and values, top level and nested, tags, ids, payloads holding JSON, NDJSON lines.
   */
  private static final Map<String, List<String>> TEXT_TEMPLATES = Map.of(
      "trigger", List.of("{\"payload\":\"@S@\"}", "{\"payload\":\"{\\\"a\\\":\\\"@S@\\\"}\"}", "{\"payload\":\"{}\",\"options\":{\"tags\":[\"@S@\"]}}",
          "{\"payload\":\"{}\",\"options\":{\"tags\":[\"ok\",\"t@S@\"]}}", "{\"payload\":\"{}\",\"options\":{\"metadata\":{\"@S@\":1}}}",
          "{\"payload\":\"{}\",\"options\":{\"metadata\":{\"k\":[\"x\",{\"y\":\"@S@\"}]}}}", "{\"payload\":\"{}\",\"options\":{\"idempotencyKey\":\"@S@\"}}",
          "{\"payload\":\"{}\",\"options\":{\"concurrencyKey\":\"@S@\"}}", "{\"@S@\":\"an unknown key\"}"),
      "metadata", List.of("{\"metadata\":{\"k\":\"@S@\"}}", "{\"metadata\":{\"@S@\":1}}", "{\"operations\":[{\"type\":\"set\",\"key\":\"@S@\",\"value\":1}]}",
          "{\"operations\":[{\"type\":\"set\",\"key\":\"k\",\"value\":\"@S@\"}]}", "{\"operations\":[{\"type\":\"append\",\"key\":\"log\",\"value\":\"@S@\"}]}",
          "{\"parentOperations\":[{\"type\":\"set\",\"key\":\"k\",\"value\":\"@S@\"}]}", "{\"rootOperations\":[{\"type\":\"set\",\"key\":\"k\",\"value\":[\"@S@\"]}]}"),
      "tags", List.of("{\"tags\":[\"@S@\"]}", "{\"tags\":[\"ok\",\"x@S@y\"]}"),
      "batch-create", List.of("{\"runCount\":2,\"taskIdentifiers\":[\"@S@\"]}", "{\"runCount\":1,\"idempotencyKey\":\"@S@\"}"),
      "batch-trigger", List.of("{\"items\":[{\"task\":\"t\",\"payload\":\"@S@\"}]}",
          "{\"items\":[{\"task\":\"t\",\"payload\":\"a\"},{\"task\":\"t\",\"payload\":\"b\",\"options\":{\"tags\":[\"@S@\"]}}]}",
          "{\"items\":[{\"task\":\"t@S@\",\"payload\":\"a\"}]}"),
      "batch-items", List.of("{\"index\":0,\"task\":\"t\",\"payload\":\"@S@\"}", "{\"index\":0,\"task\":\"t\",\"payload\":\"a\",\"options\":{\"metadata\":{\"@S@\":1}}}"),
      "transition", List.of("{\"to\":\"failed\",\"error\":{\"message\":\"@S@\"}}",
          "{\"to\":\"completed\",\"output\":\"{\\\"r\\\":\\\"@S@\\\"}\",\"outputType\":\"application/json\"}"),
      "cancel", List.of("{\"reason\":\"@S@\"}"),
      "retrieve", List.of("{\"x\":\"@S@\"}"));

  /** JSON escapes of text PostgreSQL cannot store: lone high and low surrogates, reversed and doubled halves, NUL. */
  private static final List<String> UNSTORABLE = List.of("\\ud800", "\\udbff", "\\udc00", "\\udfff", "x\\ud800", "\\ud800x",
      "\\ude00\\ud83d", "\\ud83d\\ud83d", "\\u0000", "a\\u0000b");

  /** Byte sequences that are not UTF-8: a stray byte, a bad continuation, overlong '/', an encoded surrogate, 5 bytes, truncated, past U+10FFFF. */
  private static final List<byte[]> NOT_UTF8 = List.of(new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xC3, 0x28},
      new byte[] {(byte) 0xC0, (byte) 0xAF}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xE2, (byte) 0x82},
      new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80});

  private void writeBodies() {
    Cred key = w.cred("keyA");
    for (Endpoint e : writeEndpoints()) {
      boolean readsBody = !e.name().equals("claims"); // the claims endpoint reads no body
      // Malformed and truncated JSON (the existing fuzz's mutations).
      for (String body : mangled(e.valid())) {
        Input in = add("write-malformed", e.name(), e.method(), e.path(), key).body(body).header("Content-Type", e.type());
        if (readsBody) {
          in.refused();
        }
      }
      // Text PostgreSQL cannot store, anywhere in the body.
      for (String template : TEXT_TEMPLATES.getOrDefault(e.name(), List.of())) {
        for (String bad : UNSTORABLE) {
          add("write-unstorable-text", e.name() + " " + bad, e.method(), e.path(), key).body(template.replace("@S@", bad))
              .header("Content-Type", e.type()).expect(400).says(bad.contains("u0000") ? "NUL" : "lone surrogate");
        }
      }
      // Bodies that are not UTF-8.
      if (readsBody) {
        String template = TEXT_TEMPLATES.get(e.name()).get(0);
        for (byte[] bytes : NOT_UTF8) {
          ByteArrayOutputStream body = new ByteArrayOutputStream();
          String[] halves = template.split("@S@", 2);
          body.writeBytes(halves[0].getBytes(StandardCharsets.UTF_8));
          body.writeBytes(bytes);
          body.writeBytes(halves[1].getBytes(StandardCharsets.UTF_8));
          add("write-not-utf8", e.name() + " " + hex(bytes), e.method(), e.path(), key).body(body.toByteArray())
              .header("Content-Type", e.type()).refused();
        }
      }
      // Random bytes.
      for (int i = 0; i < 3; i++) {
        byte[] bytes = new byte[1 + random.nextInt(200)];
        random.nextBytes(bytes);
        if (isJsonObject(new String(bytes, StandardCharsets.ISO_8859_1)) || new String(bytes, StandardCharsets.ISO_8859_1).isBlank()) {
          continue;
        }
        Input in = add("write-random-bytes", e.name(), e.method(), e.path(), key).body(bytes).header("Content-Type", e.type());
        if (readsBody) {
          in.refused();
        }
      }
      // Over http.bodyLimitBytes (64 KiB here).
      add("write-oversize", e.name() + " 70 KiB", e.method(), e.path(), key)
          .body(e.valid().replaceFirst("\\{", "{\"pad\":\"" + "x".repeat(70 * 1024) + "\",")).header("Content-Type", e.type()).expect(413);
    }
    // Wrong types and values (the existing fuzz's), on the scratch runs.
    Map<String, List<String>> wrong = new LinkedHashMap<>();
    wrong.put("/api/v1/tasks/adv-scratch/trigger", List.of("{\"payload\":1,\"options\":7}", "{\"options\":{\"tags\":[1,2]}}",
        "{\"options\":{\"tags\":{\"a\":1}}}", "{\"options\":{\"metadata\":\"not json\"}}", "{\"options\":{\"metadata\":[1]}}",
        "{\"options\":{\"delay\":42}}", "{\"options\":{\"ttl\":{}}}", "{\"options\":{\"test\":\"yes\"}}", "{\"options\":{\"idempotencyKey\":5}}",
        "{\"options\":{\"parentRunId\":\"run_doesnotexist\"}}",
        "{\"options\":{\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}}", "{\"options\":{\"delay\":\"tomorrow-ish\"}}",
        "{\"options\":{\"metadata\":{\"big\":\"" + "x".repeat(5000) + "\"}}}"));
    wrong.put("PUT /api/v1/runs/" + w.scratch + "/metadata", List.of("{\"metadata\":5}", "{\"operations\":{}}",
        "{\"operations\":[{\"type\":\"set\"}]}", "{\"operations\":[{\"type\":\"set\",\"key\":\"a\",\"value\":1},{\"type\":\"merge\",\"key\":\"b\"}]}",
        "{\"operations\":[{\"type\":\"increment\",\"key\":\"a\",\"value\":\"x\"}]}", "{\"operations\":[{\"type\":\"set\",\"key\":\"$.\",\"value\":1}]}",
        "{\"parentOperations\":\"x\"}", "{\"operations\":[1,2,3]}", "{\"metadata\":{\"big\":\"" + "x".repeat(5000) + "\"}}"));
    wrong.put("/api/v1/runs/" + w.scratch + "/tags", List.of("{\"tags\":[7]}", "{\"tags\":[\"" + "y".repeat(200) + "\"]}", "{\"tags\":5}",
        "{\"tags\":[null]}")); // a single string is a tag, as in trigger.dev
    wrong.put("/api/v3/batches", List.of("{\"runCount\":0}", "{\"runCount\":\"2\"}", "{\"runCount\":100000}", "{\"runCount\":2,\"taskIdentifiers\":[3]}",
        "{\"runCount\":-1}", "{\"runCount\":1e400}"));
    wrong.put("/api/v2/tasks/batch", List.of("{\"items\":[]}", "{\"items\":[{\"payload\":\"no task\"}]}", "{\"items\":\"x\"}",
        "{\"items\":[{\"task\":\"t\"},{\"task\":5}]}", "{\"items\":[null]}"));
    wrong.put("/engine/v1/runs/" + w.transit + "/transitions", List.of("{\"to\":\"flying\"}", "{}", "{\"to\":5}",
        "{\"to\":\"completed\",\"outputType\":7}", "{\"to\":null}"));
    wrong.forEach((where, bodies) -> {
      String method = where.startsWith("PUT ") ? "PUT" : "POST";
      String path = where.startsWith("PUT ") ? where.substring(4) : where;
      for (String body : bodies) {
        add("write-wrong-type", path.replaceAll("run_\\w+|batch_\\w+", "{id}"), method, path, key).json(body).refused();
      }
    });
    String items = "/api/v3/batches/" + w.batchScratch + "/items";
    for (String body : List.of("{\"index\":-1,\"task\":\"t\"}", "{\"index\":\"0\",\"task\":\"t\"}", "{\"index\":0,\"task\":\"t\"}\n{oops",
        "null", "[1]", "{\"index\":99999999999,\"task\":\"t\"}")) {
      add("write-wrong-type", "batch items", "POST", items, key).body(body).header("Content-Type", NDJSON).refused();
    }
    add("write-wrong-type", "batch items as JSON", "POST", items, key).json("{\"index\":0}").expect(415);
    add("write-wrong-type", "task id with a space", "POST", "/api/v1/tasks/bad%20task/trigger", key).json("{}").expect(400);
    // Hostile but valid text: stored as sent (a pair is one character; a bidi override is text).
    add("write-valid-text", "surrogate pair tag", "POST", "/api/v1/tasks/adv-scratch/trigger", key)
        .json("{\"payload\":\"{}\",\"options\":{\"tags\":[\"\\ud83d\\ude00\"]}}").expect(200);
    add("write-valid-text", "bidi and pair in metadata", "PUT", "/api/v1/runs/" + w.scratch + "/metadata", key)
        .json("{\"metadata\":{\"rtl\":\"\\u202eevil\",\"emoji\":\"\\ud83d\\ude00\",\"sql\":\"'; DROP TABLE task_runs; --\"}}").expect(200);
    add("write-valid-text", "pair in a payload", "POST", "/api/v1/tasks/adv-scratch/trigger", key)
        .json("{\"payload\":\"{\\\"a\\\":\\\"\\ud83d\\ude00\\\"}\"}").expect(200);
  }

  /** The write API with every credential but its own environment's secret key. */
  private void writeCredentials() {
    for (Endpoint e : writeEndpoints()) {
      List<Object[]> creds = new ArrayList<>(List.of(new Object[] {w.cred("none"), 401}, new Object[] {w.cred("basic"), 401},
          new Object[] {w.cred("bearer-alone"), 401}, new Object[] {w.cred("bearer-empty"), 401},
          new Object[] {w.cred("tokA:read:runs"), 403}, new Object[] {w.cred("tokA:admin"), 403},
          new Object[] {w.cred("tokA:run:A1"), 403}, new Object[] {w.cred("keyA-altered"), -1},
          new Object[] {w.cred("random-key"), -1}));
      if (e.runScoped()) {
        creds.add(new Object[] {w.cred("keyB"), 404}); // environment A's run does not exist for B's key
      }
      for (Object[] c : creds) {
        Input in = add("write-credentials", e.name(), e.method(), e.path(), (Cred) c[0]).body(e.valid()).header("Content-Type", e.type());
        int status = (Integer) c[1];
        if (status == -1) {
          in.expect(401, 429); // an unknown key of the right form is looked up within a budget: 429 past it
        } else {
          in.expect(status);
        }
      }
    }
  }

  // --- run ids --------------------------------------------------------------------------------------

  /** Run ids no run has: 3,000 characters, bidi overrides and marks, zero-width, controls, traversal, non-ASCII. */
  static final List<String> BAD_RUN_IDS = List.of("r".repeat(3000), "run_%E2%80%AEevil", "run_%E2%81%A6x", "%E2%80%8Frun", "run_%E2%80%8B",
      "run_%F0%9F%98%80", "run_%D9%85%D8%B1%D8%AD%D8%A8%D8%A7", "run%20x", "run_%00", "run_%01", "%2E%2E", "run_" + "a".repeat(125),
      "run_%C3%A9", "run;drop", "run'%27", "%7Brun%7D", "run_%7F");

  private void runIds() {
    Cred key = w.cred("keyA");
    for (String id : BAD_RUN_IDS) {
      String label = id.length() > 40 ? id.length() + " chars" : id;
      List<Input> each = List.of(
          add("run-ids", "metadata " + label, "PUT", "/api/v1/runs/" + id + "/metadata", key).json("{\"metadata\":{\"a\":1}}"),
          add("run-ids", "tags " + label, "POST", "/api/v1/runs/" + id + "/tags", key).json("{\"tags\":[\"a\"]}"),
          add("run-ids", "cancel " + label, "POST", "/api/v2/runs/" + id + "/cancel", key),
          add("run-ids", "retrieve " + label, "GET", "/api/v3/runs/" + id, key),
          add("run-ids", "transition " + label, "POST", "/engine/v1/runs/" + id + "/transitions", key).json("{\"to\":\"executing\"}"),
          add("run-ids", "feed " + label, "GET", "/realtime/v1/runs/" + id + "?offset=-1", key),
          add("run-ids", "batch feed " + label, "GET", "/realtime/v1/batches/" + id + "?offset=-1", key),
          add("run-ids", "run packet " + label, "GET", "/api/v1/runs/" + id + "/packets/payload", key),
          add("run-ids", "stream register " + label, "PUT", "/realtime/v1/streams/" + id + "/self/out", key),
          add("run-ids", "stream writer " + label, "POST", "/realtime/v1/streams/" + id + "/self/out", key).body("{\"n\":1}\n"),
          add("run-ids", "stream probe " + label, "HEAD", "/realtime/v1/streams/" + id + "/self/out", key),
          add("run-ids", "stream append " + label, "POST", "/realtime/v1/streams/" + id + "/self/out/append", key).body("x"),
          add("run-ids", "stream read " + label, "GET", "/realtime/v1/streams/" + id + "/out", key));
      for (Input in : each) {
        if (!id.equals("%2E%2E")) { // a dot segment is resolved before routing: /api/v1/runs/../packets/x is a packet path
          in.refused();
        }
        in.check("the id is never echoed", a -> !a.body().contains("rrrrrrrrrrrrrrrr") && !a.body().contains("\u202e")
            && !a.body().contains("\u2066") && !a.body().contains("\u200f") && !a.body().contains("\u200b"));
      }
    }
  }

  // --- realtime feeds -------------------------------------------------------------------------------

  private List<String> feedPaths() {
    return List.of("/realtime/v1/runs/" + w.run("A1"), "/realtime/v1/runs/" + w.run("A2"), "/realtime/v1/runs/" + w.run("A3"),
        "/realtime/v1/runs/" + w.run("B1"), "/realtime/v1/runs?tags=shared", "/realtime/v1/runs?tags=alpha", "/realtime/v1/runs?tags=beta",
        "/realtime/v1/runs?tags=shared,beta", "/realtime/v1/runs", "/realtime/v1/batches/" + w.batchA, "/realtime/v1/batches/" + w.batchB);
  }

  private static String withParam(String path, String param) {
    return path + (path.contains("?") ? "&" : "?") + param;
  }

  /** Every credential on every feed, snapshot and live: what it sees is what its scopes cover, in its environment. */
  private void feedsByCredential() {
    for (Cred cred : w.creds.values()) {
      for (String path : feedPaths()) {
        add("feed-scopes", "snapshot", "GET", withParam(path, "offset=-1"), cred);
      }
      if (cred.isToken()) {
        for (String path : feedPaths().subList(0, 6)) {
          add("feed-scopes", "?token=", "GET", withParam(path, "offset=-1&token=" + cred.token()), cred).tokenInQuery();
        }
      }
    }
    // A secret key never goes in a URL.
    for (String path : feedPaths().subList(0, 5)) {
      add("feed-scopes", "secret key in ?token=", "GET", withParam(path, "offset=-1&token=" + w.keyA), w.cred("none")).expect(401);
    }
  }

  /** A handle is good only for its own environment, feed and columns: every other use is a refetch, never its rows. */
  private void borrowedHandles() {
    List<String> creds = List.of("keyA", "keyB", "tokA:run:A1", "tokB:run:B1", "tokA:tag:beta", "tokA:batch:A");
    for (String c : creds) {
      for (Feed feed : w.feeds.values()) {
        for (String path : feedPaths().subList(0, 6)) {
          String query = "offset=" + (random.nextBoolean() ? feed.offset() : "0_0") + "&handle=" + feed.handle()
              + (random.nextInt(4) == 0 ? "&live=true" : "");
          add("feed-handles", "handle of " + feed.path(), "GET", withParam(path, query), w.cred(c));
        }
      }
    }
  }

  private static final List<String> OFFSETS = List.of("-1", "now", "0_0", "1_0", "2_0", "999_0", "abc", "-5", "1_x", "99999999999999999999_0",
      "%00", "", "1e3_0", "0_0_0", "-1_0", "0_-1", "%E2%80%AE");
  private static final List<String> FORGED_HANDLES = List.of("forged", "zzzz-0-1-abcdef", "node-9-1-abcdef", "%00", "x".repeat(500), "%FF",
      "..%2F..", "-0-0-0");
  private static final List<String> TAGS = List.of("shared", "alpha", "beta", "scratch", "shared,alpha", "%00", "a%00b", "a,b,c,d,e,f,g,h,i,j,k",
      "x".repeat(129), "%27%3B%20DROP%20TABLE%20task_runs%3B--", "%E2%80%AEshared", "%FF", "%C0%AF", ",,,", "%20shared%20", "%01");
  private static final List<String> STATUSES = List.of("EXECUTING", "QUEUED,COMPLETED", "RUNNING", "%00", "x",
      String.join(",", Collections.nCopies(40, "QUEUED")), "executing", "%FF", "COMPLETED,%E2%80%AE");
  private static final List<String> WINDOWS = List.of("24h", "1d12h", "-1h", "1x", "99999999999w", "%00", "0s", "1000000000000000000000d", "h", "52w");
  private static final List<String> COLUMNS = List.of("payload", "metadata", "id", "nope", "payload,output", "%00", "x".repeat(300), "status,updatedAt",
      "%E2%80%AE");
  private static final List<String> JUNK_PARAMS = List.of("where=1%3D1", "table=task_runs", "columns=*", "replica=full", "params%5B1%5D=x",
      "offset=-1&offset=now", "live=true&live=false", "handle=", "%00=%00", "subset__where=true");

  /** Realtime feeds with every parameter, each present or not, valid or hostile, under any credential: 5xx, leaks and stack traces looked for. */
  private void randomFeeds(int n) {
    List<Cred> creds = new ArrayList<>(w.creds.values());
    List<Feed> feeds = new ArrayList<>(w.feeds.values());
    List<String> runIds = List.of(w.run("A1"), w.run("A2"), w.run("A3"), w.run("B1"), w.run("B3"), w.scratch, "run_doesnotexist0000000000",
        "run_%E2%80%AEx", "r".repeat(3000));
    List<String> batchIds = List.of(w.batchA, w.batchB, "batch_doesnotexist", "%00");
    for (int i = 0; i < n; i++) {
      String path;
      int kind = random.nextInt(4);
      if (kind == 0) {
        path = "/realtime/v1/runs/" + pick(runIds);
      } else if (kind == 1) {
        path = "/realtime/v1/runs?tags=" + pick(TAGS);
      } else if (kind == 2) {
        path = "/realtime/v1/batches/" + pick(batchIds);
      } else {
        path = "/realtime/v1/runs";
      }
      Feed own = feeds.stream().filter(f -> f.path().equals(stripQuery(path))).findFirst().orElse(pick(feeds));
      List<String> params = new ArrayList<>();
      if (chance(0.9)) {
        params.add("offset=" + (chance(0.3) ? own.offset() : pick(OFFSETS)));
      }
      if (chance(0.5)) {
        params.add("handle=" + (chance(0.5) ? own.handle() : chance(0.5) ? pick(feeds).handle() : pick(FORGED_HANDLES)));
      }
      if (chance(0.35)) {
        params.add("live=" + pick(List.of("true", "true", "false", "TRUE", "1", "%00")));
      }
      if (chance(0.25)) {
        params.add(pick(List.of("live_sse", "experimental_live_sse")) + "=" + pick(List.of("true", "false", "1", "")));
      }
      if (chance(0.2)) {
        params.add("cursor=" + pick(List.of("0", "-1", "abc", "99999999999999999999", "%FF", "12345")));
      }
      if (chance(0.25)) {
        params.add("skipColumns=" + pick(COLUMNS));
      }
      if (chance(0.2)) {
        params.add("tags=" + pick(TAGS));
      }
      if (chance(0.25)) {
        params.add("statuses=" + pick(STATUSES));
      }
      if (chance(0.25)) {
        params.add("createdAt=" + pick(WINDOWS));
      }
      if (chance(0.1)) {
        params.add("expired_handle=" + (chance(0.5) ? own.handle() : pick(FORGED_HANDLES)));
      }
      if (chance(0.1)) {
        params.add(pick(JUNK_PARAMS));
      }
      Collections.shuffle(params, random);
      Cred cred = pick(creds);
      boolean inQuery = cred.isToken() && chance(0.2);
      if (inQuery) {
        params.add("token=" + cred.token());
      }
      String target = params.isEmpty() ? path : withParam(path, String.join("&", params));
      Input in = add("feed-random", "params", "GET", target, cred);
      if (inQuery) {
        in.tokenInQuery();
      }
    }
  }

  // --- streams --------------------------------------------------------------------------------------

  private void streams() {
    Cred key = w.cred("keyA");
    String streams = "/realtime/v1/streams/";
    String a1 = w.run("A1");
    String writer = streams + w.writerRun + "/self/";
    String lines3 = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n";
    // Chunk indexes never wrap: a resume point whose lines pass 2^31 - 1 is refused (the lines before it are kept).
    for (String resume : List.of("2147483647", "2147483646")) {
      Input in = add("stream-writer", "resume " + resume + " + 3 lines", "POST", writer + w.openStream(), key).body(lines3)
          .header("X-Client-Id", "wrap-" + resume).header("X-Resume-From-Chunk", resume).expect(400).says("2147483647");
      in.keepsLinesBeforeRefusal = true;
    }
    add("stream-writer", "resume 2147483647 + 1 line", "POST", writer + w.openStream(), key).body("{\"n\":1}\n")
        .header("X-Client-Id", "last-index").header("X-Resume-From-Chunk", "2147483647");
    for (String resume : List.of("2147483648", "-1", "abc", "1e3", "99999999999999999999", "0x10", "1 2", "-0x1")) {
      add("stream-writer", "resume " + resume, "POST", writer + w.openStream(), key).body(lines3).header("X-Client-Id", "c")
          .header("X-Resume-From-Chunk", resume).expect(400);
    }
    // A first line that cannot be stored: nothing is.
    add("stream-writer", "invalid UTF-8 line", "POST", writer + w.openStream(), key).body(new byte[] {(byte) 0xFF, (byte) 0xFE, '\n'})
        .header("X-Client-Id", "c").expect(400);
    add("stream-writer", "encoded surrogate line", "POST", writer + w.openStream(), key)
        .body(new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '\n'}).header("X-Client-Id", "c").expect(400);
    add("stream-writer", "NUL line", "POST", writer + w.openStream(), key).body(new byte[] {'a', 0, 'b', '\n'}).header("X-Client-Id", "c")
        .expect(400);
    add("stream-writer", "oversize line", "POST", writer + w.openStream(), key).body("x".repeat(5000) + "\n").header("X-Client-Id", "c")
        .expect(413);
    for (String client : List.of("a".repeat(65), "has space", "tab\there")) {
      add("stream-writer", "client id " + client.length(), "POST", writer + w.openStream(), key).body(lines3).header("X-Client-Id", client)
          .expect(400);
    }
    String shared = w.openStream();
    for (Object[] c : new Object[][] {{"none", 401}, {"tokA:read:runs", 403}, {"tokA:run:A1", 403}, {"keyB", 404}, {"random-key", -1}}) {
      Input in = add("stream-writer", "credential", "POST", writer + shared, w.cred((String) c[0])).body(lines3);
      if ((Integer) c[1] > 0) {
        in.expect((Integer) c[1]);
      } else {
        in.expect(401, 429);
      }
    }
    add("stream-writer", "closed stream", "POST", streams + a1 + "/self/out", key).body(lines3).expect(409);
    add("stream-writer", "target another run", "POST", streams + w.writerRun + "/" + a1 + "/" + shared, key).body(lines3).expect(400);
    // Single appends.
    String appendTo = writer + w.openStream() + "/append";
    add("stream-append", "valid", "POST", appendTo, key).body("hello").expect(200);
    for (byte[] bad : List.of(new byte[] {(byte) 0xFF}, new byte[] {'a', 0}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        new byte[] {(byte) 0xC0, (byte) 0xAF})) {
      add("stream-append", "bytes " + hex(bad), "POST", appendTo, key).body(bad).expect(400);
    }
    add("stream-append", "oversize", "POST", appendTo, key).body("y".repeat(5000)).expect(413);
    add("stream-append", "closed stream", "POST", streams + a1 + "/self/out/append", key).body("x").expect(409);
    for (Object[] c : new Object[][] {{"none", 401}, {"tokA:admin", 403}, {"keyB", 404}}) {
      add("stream-append", "credential", "POST", appendTo, w.cred((String) c[0])).body("x").expect((Integer) c[1]);
    }
    // Registration.
    add("stream-register", "closed", "PUT", streams + a1 + "/self/out", key).expect(409);
    add("stream-register", "new key", "PUT", writer + "registered-here", key).expect(202);
    add("stream-register", "by run id", "PUT", streams + w.writerRun + "/" + w.writerRun + "/by-id", key).expect(202);
    add("stream-register", "another run as target", "PUT", streams + w.writerRun + "/" + a1 + "/x", key).expect(400);
    add("stream-register", "parent target", "PUT", streams + w.writerRun + "/parent/x", key).expect(400);
    for (String k : List.of("%00", "%7F", "%C2%85", "k".repeat(257), "%0A")) {
      add("stream-register", "key " + (k.length() > 20 ? k.length() + " chars" : k), "PUT", writer + k, key).expect(400);
    }
    add("stream-register", "bidi key", "PUT", writer + "%E2%80%AEevil", key);
    for (Object[] c : new Object[][] {{"none", 401}, {"basic", 401}, {"tokA:read:runs", 403}, {"tokB:read:runs", 403}, {"keyB", 404}}) {
      add("stream-register", "credential", "PUT", streams + a1 + "/self/new", w.cred((String) c[0])).expect((Integer) c[1]);
    }
    // The writer's resume probe.
    add("stream-probe", "valid", "HEAD", writer + shared, key).header("X-Client-Id", "c1").expect(200);
    add("stream-probe", "long client id", "HEAD", writer + shared, key).header("X-Client-Id", "a".repeat(65)).expect(400);
    add("stream-probe", "bad key", "HEAD", writer + "%00", key).expect(400);
    for (Object[] c : new Object[][] {{"none", 401}, {"tokA:run:A1", 403}, {"keyB", 404}}) {
      add("stream-probe", "credential", "HEAD", streams + a1 + "/self/out", w.cred((String) c[0])).expect((Integer) c[1]);
    }
    // Readers: each credential reads A1's and B1's streams (complete: they end at once).
    for (Cred c : w.creds.values()) {
      add("stream-read", "A1", "GET", streams + a1 + "/out", c);
      add("stream-read", "B1", "GET", streams + w.run("B1") + "/out", c);
      if (c.isToken()) {
        add("stream-read", "?token=", "GET", streams + a1 + "/out?token=" + c.token(), c).tokenInQuery();
      }
    }
    for (String id : List.of("abc", "-1", "1-", "99999999999999999999", "1-2-3", "%00", "1-99999999999999999999")) {
      add("stream-read", "Last-Event-ID " + id, "GET", streams + a1 + "/out", key).header("Last-Event-ID", id);
    }
    for (String t : List.of("0", "601", "-1", "abc", "1.5", "99999999999999999999", "1e2")) {
      add("stream-read", "Timeout-Seconds " + t, "GET", streams + a1 + "/out", key).header("Timeout-Seconds", t).expect(400);
    }
    add("stream-read", "unwritten key, 1 s", "GET", streams + w.run("A2") + "/never", key).header("Timeout-Seconds", "1");
    add("stream-read", "secret key in ?token=", "GET", streams + a1 + "/out?token=" + w.keyA, w.cred("none")).expect(401);
  }

  // --- packets --------------------------------------------------------------------------------------

  private void packets() {
    Cred key = w.cred("keyA");
    String valid = URLEncoder.encode(PACKET_PATH, StandardCharsets.UTF_8);
    List<String> unsafe = List.of("..%2Fx", "a%2F..%2Fb", "%2Fabs", "a%2F%2Fb", "a%00b", "a%5Cb", "%2E", "x".repeat(1100), "a%2F.%2Fb",
        "%2E%2E%2Fenv_other%2Fx", "trigger%2F%E2%80%AEfdp.exe", "%C0%AF");
    for (String presign : List.of("PUT /api/v2/packets/", "PUT /api/v1/packets/", "GET /api/v1/packets/")) {
      String method = presign.substring(0, presign.indexOf(' '));
      String prefix = presign.substring(presign.indexOf(' ') + 1);
      for (String path : unsafe) {
        Input in = add("packet-presign", "path " + (path.length() > 30 ? path.length() + " chars" : path), method, prefix + path, key);
        if (!path.contains("E2%80%AE")) {
          in.refused();
        }
      }
      for (Cred c : w.creds.values()) {
        add("packet-presign", "credential", method, prefix + valid, c);
      }
      // Presigned URLs never point at a forwarded host (anyone can send those headers).
      for (String[] forged : new String[][] {{"X-Forwarded-Host", "evil.example"}, {"X-Forwarded-Host", "evil.example:443"},
          {"Forwarded", "host=evil.example;proto=https"}, {"X-Original-Host", "evil.example"}, {"X-Forwarded-Server", "evil.example"}}) {
        add("packet-forwarded-host", forged[0], method, prefix + valid, key).header(forged[0], forged[1]).header("X-Forwarded-Proto", "https")
            .expect(200).check("no URL on the forwarded host", a -> !a.body().contains("evil"));
      }
    }
    for (String[] forged : new String[][] {{"X-Forwarded-Host", "evil.example"}, {"Forwarded", "host=evil.example"}}) {
      add("packet-forwarded-host", "retrieve " + forged[0], "GET", "/api/v3/runs/" + w.offloaded, key).header(forged[0], forged[1])
          .expect(200).check("payloadPresignedUrl on this node", a -> a.body().contains("payloadPresignedUrl") && !a.body().contains("evil"));
      add("packet-forwarded-host", "run packet " + forged[0], "GET", "/api/v1/runs/" + w.offloaded + "/packets/payload", key)
          .header(forged[0], forged[1]).expect(200).check("no URL on the forwarded host", a -> !a.body().contains("evil"));
    }
    // A run's packets, by field and credential.
    for (String field : List.of("payload", "output", "metadata", "%00", "..", "PAYLOAD")) {
      for (String c : List.of("keyA", "keyB", "tokA:run:A1", "tokA:tag:beta", "none")) {
        add("packet-run", field, "GET", "/api/v1/runs/" + w.run("A1") + "/packets/" + field, w.cred(c)).refused();
      }
    }
    for (String c : List.of("keyA", "keyB", "tokA:run:A1", "tokA:read:runs", "tokB:read:runs", "none")) {
      add("packet-run", "offloaded", "GET", "/api/v1/runs/" + w.offloaded + "/packets/payload", w.cred(c));
    }
    // The presigned URLs themselves: the signature is the only authority.
    Cred none = w.cred("none");
    add("packet-presigned", "A's download", "GET", w.getA, none).expect(200).sees("PA")
        .check("an attachment in a sandbox", a -> "nosniff".equals(a.header("x-content-type-options"))
            && a.header("content-disposition") != null && a.header("content-disposition").startsWith("attachment"));
    add("packet-presigned", "B's download", "GET", w.getB, none).expect(200).sees("PB");
    add("packet-presigned", "A's URL moved to B", "GET", w.getA.replace(w.envA, w.envB), none).expect(403);
    add("packet-presigned", "B's URL moved to A", "GET", w.getB.replace(w.envB, w.envA), none).expect(403);
    add("packet-presigned", "altered signature", "GET", w.getA.replace("signature=", "signature=0"), none).expect(403);
    add("packet-presigned", "altered expiry", "GET", w.getA.replaceFirst("expires=(\\d)", "expires=9$1"), none).expect(403);
    add("packet-presigned", "altered path", "GET", w.getA.replace("payload.json", "payload.jso"), none).expect(403);
    add("packet-presigned", "download URL used to upload", "PUT", w.getA, none).json("{\"x\":1}").expect(403);
    add("packet-presigned", "upload", "PUT", w.putScratch, none).json("{\"uploaded\":true}").expect(200);
    add("packet-presigned", "oversize upload", "PUT", w.putScratch, none).json("\"" + "z".repeat(110_000) + "\"").expect(413);
    String forgedBase = "/packets/" + w.envA + "/" + PACKET_PATH;
    for (String query : List.of("", "?expires=1", "?signature=00", "?expires=abc&signature=00", "?expires=1&signature=00",
        "?expires=99999999999&signature=" + "0".repeat(64), "?expires=%00&signature=%00", "?expires=-1&signature=" + "0".repeat(64),
        "?expires=99999999999999999999999&signature=x")) {
      add("packet-presigned", "forged " + query, "GET", forgedBase + query, none).refused();
      add("packet-presigned", "forged upload " + query, "PUT", forgedBase + query, none).json("{}").refused();
    }
    add("packet-presigned", "unknown environment", "GET", "/packets/env_nope/a.json?expires=99999999999&signature=00", none).refused();
    add("packet-presigned", "bad environment", "GET", "/packets/%00/a.json?expires=99999999999&signature=00", none).refused();
    add("packet-presigned", "no path", "GET", "/packets/" + w.envA, none).refused();
    add("packet-presigned", "traversal", "PUT", "/packets/" + w.envA + "/a/%2E%2E/b?expires=1&signature=x", none).json("1").refused();
  }

  // --- tokens and keys ------------------------------------------------------------------------------

  /** A token the suite forges: {@code refused} when it must get a 401; otherwise it reads at most {@code sees}. */
  private record BadToken(String name, String jwt, boolean refused, Set<String> sees) {
    BadToken(String name, String jwt, boolean refused) {
      this(name, jwt, refused, refused ? Set.of() : Set.of("A1", "A2", "A3"));
    }
  }

  private List<BadToken> badTokens(long now) {
    List<BadToken> tokens = new ArrayList<>();
    JsonObject hs256 = new JsonObject().put("alg", "HS256").put("typ", "JWT");
    java.util.function.Function<JsonObject, String> signedByA = claims -> jwt(hs256, claims, w.keyA);
    java.util.function.Supplier<JsonObject> base = () -> Tokens.claims(w.envA, List.of("read:runs"));
    // Claims of the wrong type: every one a 401 "invalid access token", never a ClassCastException.
    Object[][] wrongTypes = {{"exp", "x"}, {"exp", true}, {"exp", new JsonArray()}, {"exp", new JsonObject()}, {"iat", "x"}, {"nbf", "x"},
        {"aud", 5}, {"aud", new JsonArray().add(5)}, {"aud", new JsonObject()}, {"iss", 5}, {"iss", new JsonArray()}, {"sub", 5},
        {"sub", new JsonObject()}, {"pub", "true"}, {"pub", 1}, {"scopes", "x"}, {"scopes", new JsonArray().add(1)},
        {"scopes", new JsonArray().addNull()}, {"scopes", new JsonArray().add(new JsonObject())}, {"scopes", new JsonObject()}};
    for (Object[] t : wrongTypes) {
      tokens.add(new BadToken(t[0] + "=" + t[1], signedByA.apply(base.get().put((String) t[0], t[1])), true));
    }
    // Wrong values.
    tokens.add(new BadToken("expired", signedByA.apply(base.get().put("exp", now - 3600)), true));
    tokens.add(new BadToken("exp -1", signedByA.apply(base.get().put("exp", -1)), true));
    tokens.add(new BadToken("no exp", signedByA.apply(removed(base.get(), "exp")), true));
    tokens.add(new BadToken("issuer", signedByA.apply(base.get().put("iss", "https://evil.example")), true));
    tokens.add(new BadToken("audience", signedByA.apply(base.get().put("aud", "https://evil.example")), true));
    tokens.add(new BadToken("pub false", signedByA.apply(base.get().put("pub", false)), true));
    tokens.add(new BadToken("sub null", signedByA.apply(base.get().putNull("sub")), true));
    tokens.add(new BadToken("B's env signed with A's key", signedByA.apply(base.get().put("sub", w.envB)), true));
    tokens.add(new BadToken("A's env signed with B's key", jwt(hs256, base.get(), w.keyB), true));
    tokens.add(new BadToken("unknown env", signedByA.apply(base.get().put("sub", "env_" + alnum(24))), true));
    tokens.add(new BadToken("3000-char env", signedByA.apply(base.get().put("sub", "env_" + "a".repeat(3000))), true));
    tokens.add(new BadToken("bidi env", signedByA.apply(base.get().put("sub", "env_\u202e" + w.envA.substring(4))), true));
    tokens.add(new BadToken("alg none", b64(new JsonObject().put("alg", "none").encode()) + "." + b64(base.get().encode()) + ".", true));
    tokens.add(new BadToken("alg HS512", jwt(new JsonObject().put("alg", "HS512"), base.get(), w.keyA), true));
    tokens.add(new BadToken("alg RS256", jwt(new JsonObject().put("alg", "RS256"), base.get(), w.keyA), true));
    tokens.add(new BadToken("no alg", jwt(new JsonObject().put("typ", "JWT"), base.get(), w.keyA), true));
    tokens.add(new BadToken("alg 5", jwt(new JsonObject().put("alg", 5), base.get(), w.keyA), true));
    tokens.add(new BadToken("header not JSON", b64("{not json") + "." + b64(base.get().encode()) + ".c2ln", true));
    tokens.add(new BadToken("claims an array", b64(hs256.encode()) + "." + b64("[1,2]") + ".c2ln", true));
    tokens.add(new BadToken("claims not base64", b64(hs256.encode()) + ".%%%%." + "c2ln", true));
    tokens.add(new BadToken("empty signature", signedByA.apply(base.get()).replaceAll("\\.[^.]*$", "."), true));
    tokens.add(new BadToken("short signature", signedByA.apply(base.get()).replaceAll("\\.[^.]*$", ".AAAA"), true));
    tokens.add(new BadToken("four parts", signedByA.apply(base.get()) + ".x", true));
    tokens.add(new BadToken("9,000 chars", signedByA.apply(base.get().put("pad", "p".repeat(9000))), true));
    tokens.add(new BadToken("tampered scopes", swapClaims(signedByA.apply(Tokens.claims(w.envA, List.of("read:runs:" + w.run("A1")))),
        Tokens.claims(w.envA, List.of("read:all"))), true));
    // Odd but well-signed: may be accepted; they see only environment A's runs.
    tokens.add(new BadToken("padded signature", signedByA.apply(base.get()) + "==", false));
    tokens.add(new BadToken("aud array", signedByA.apply(base.get().put("aud", new JsonArray().add("https://api.trigger.dev"))), false));
    tokens.add(new BadToken("exp 1e30", signedByA.apply(base.get().put("exp", 1e30)), false));
    tokens.add(new BadToken("nbf future", signedByA.apply(base.get().put("nbf", now + 3600)), false));
    tokens.add(new BadToken("typ JWS", jwt(new JsonObject().put("alg", "HS256").put("typ", "JWS"), base.get(), w.keyA), false));
    tokens.add(new BadToken("kid", jwt(hs256.copy().put("kid", "../../etc/passwd"), base.get(), w.keyA), false));
    tokens.add(new BadToken("scope of B's run", signedByA.apply(Tokens.claims(w.envA, List.of("read:runs:" + w.run("B1")))), false, Set.of()));
    tokens.add(new BadToken("scope of B's batch", signedByA.apply(Tokens.claims(w.envA, List.of("read:batch:" + w.batchB))), false, Set.of()));
    tokens.add(new BadToken("scopes like SQL", signedByA.apply(Tokens.claims(w.envA, List.of("read:tags:' OR '1'='1", "read:runs:%"))), false, Set.of()));
    return tokens;
  }

  private void badTokens() {
    long now = System.currentTimeMillis() / 1000;
    String a1 = w.run("A1");
    for (BadToken t : badTokens(now)) {
      Cred cred = new Cred("token " + t.name(), "Bearer " + t.jwt(), t.sees());
      List<Input> each = new ArrayList<>(List.of(
          add("tokens", t.name() + " feed", "GET", "/realtime/v1/runs/" + a1 + "?offset=-1", cred),
          add("tokens", t.name() + " tag feed", "GET", "/realtime/v1/runs?tags=shared&offset=-1", cred),
          add("tokens", t.name() + " stream read", "GET", "/realtime/v1/streams/" + a1 + "/out", cred),
          add("tokens", t.name() + " run packet", "GET", "/api/v1/runs/" + a1 + "/packets/payload", cred),
          add("tokens", t.name() + " packet by path", "GET", "/api/v1/packets/" + URLEncoder.encode(PACKET_PATH, StandardCharsets.UTF_8), cred),
          add("tokens", t.name() + " stats", "GET", "/api/v1/dashboard/stats", cred),
          add("tokens", t.name() + " claims", "POST", "/api/v1/auth/jwt/claims", cred).json("{}"),
          add("tokens", t.name() + " metadata write", "PUT", "/api/v1/runs/" + w.scratch + "/metadata", cred).json("{\"metadata\":{\"t\":1}}")));
      if (t.jwt().chars().allMatch(c -> c > 32 && c < 127 && c != '%' && c != '&' && c != '#')) {
        each.add(add("tokens", t.name() + " feed ?token=", "GET", "/realtime/v1/runs/" + a1 + "?offset=-1&token=" + t.jwt(), cred).tokenInQuery());
      }
      for (Input in : each) {
        if (t.refused()) {
          // A token too long for the request line or the headers is refused before it is read (414, 431).
          in.expect(401, 429, 414, 431).check("a token refusal names no Java class", a -> !a.body().contains("java.") && !a.body().contains("Exception"));
        } else if (in.name.endsWith("claims") || in.name.endsWith("write")) {
          in.expect(401, 403);
        }
      }
    }
  }

  private void randomKeys() {
    List<String> targets = List.of("/realtime/v1/runs/" + w.run("A1") + "?offset=-1", "/api/v3/runs/" + w.run("A1"), "/api/v1/dashboard/stats",
        "/realtime/v1/streams/" + w.run("A1") + "/out", "/api/v1/packets/" + URLEncoder.encode(PACKET_PATH, StandardCharsets.UTF_8));
    for (int i = 0; i < 70; i++) {
      String key = "tr_" + pick(List.of("dev", "prod", "stg", "preview")) + "_" + alnum(8 + random.nextInt(40));
      add("random-keys", "well-formed key", "GET", pick(targets), new Cred("random key", "Bearer " + key, Set.of())).expect(401, 429);
    }
    for (int i = 0; i < 20; i++) {
      JsonObject claims = Tokens.claims("env_" + alnum(20), List.of("read:runs"));
      String token = jwt(new JsonObject().put("alg", "HS256"), claims, "tr_dev_" + alnum(24));
      add("random-keys", "token of an unknown env", "GET", pick(targets), new Cred("random token", "Bearer " + token, Set.of())).expect(401, 429);
    }
    for (String key : List.of("tr_", "tr_dev_", "tr_x_abc", "tr_dev_" + "a".repeat(65), "tr_DEV_abc", "sk_live_abc", w.keyA.toUpperCase(),
        w.keyA.substring(0, w.keyA.length() - 1), w.keyB + w.keyA, "tr_dev_" + alnum(20) + "%00", "tr_dev_\u00e4", w.keyA + " x",
        "x".repeat(9000), "\"" + w.keyA + "\"")) {
      add("random-keys", "malformed key", "GET", targets.get(0), new Cred("malformed key", "Bearer " + key, Set.of())).refused();
    }
    add("random-keys", "double space before the key", "GET", targets.get(0), new Cred("keyA spaced", "Bearer  " + w.keyA, Set.of("A1", "A2", "A3")));
    add("random-keys", "lower-case scheme", "GET", targets.get(0), new Cred("keyA bearer", "bearer " + w.keyA, Set.of("A1", "A2", "A3")));
  }

  // --- probes and the dashboard ---------------------------------------------------------------------

  private void probes() {
    Cred none = w.cred("none");
    for (String path : List.of("/health", "/health/live", "/health/ready", "/metrics", "/dashboard", "/dashboard/", "/dashboard/index.html",
        "/dashboard/dashboard.js", "/dashboard/nope.js", "/dashboard/%2E%2E/%2E%2E/pom.xml", "/dashboard/..%2F..%2Fpom.xml",
        "/dashboard/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/health?x=%00", "/health/%2E%2E", "/health/live/x", "/healthz", "/health/ready?verbose=1",
        "/metrics?name[]=x", "/dashboard/?%FF", "/_test/hooks", "/")) {
      add("probes", "GET", "GET", path, none);
      add("probes", "GET with a garbage key", "GET", path, w.cred("random-key"));
    }
    for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT")) {
      for (String path : List.of("/health", "/health/live", "/health/ready", "/metrics", "/api/v1/dashboard/stats")) {
        Input in = add("probes", method, method, path, none);
        if (method.equals("TRACE") || method.equals("CONNECT")) {
          in.mayCloseSilently = true;
        }
      }
    }
    add("probes", "CORS preflight", "OPTIONS", "/realtime/v1/runs", none).header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "authorization");
    for (String since : List.of("0", "-1", "abc", "99999999999999999999", "%00", "1.5", "", Long.toString(System.currentTimeMillis() - 60_000))) {
      for (String c : List.of("keyA", "keyB", "tokA:admin", "tokA:read:all", "tokA:read:runs", "tokA:run:A1", "none", "random-key")) {
        boolean valid = since.matches("-?\\d{1,18}");
        Input in = add("dashboard-stats", "since " + since, "GET", "/api/v1/dashboard/stats?since=" + since, w.cred(c));
        if (!valid) {
          in.expect(400);
        } else if (c.equals("tokA:read:runs") || c.equals("tokA:run:A1")) {
          in.expect(403);
        } else if (c.equals("none")) {
          in.expect(401);
        } else if (c.equals("random-key")) {
          in.expect(401, 429);
        }
      }
    }
  }

  // --- framing: what only a raw socket sends ---------------------------------------------------------

  private Input raw(String name, String text) {
    Input in = add("framing", name, null, null, w.cred("keyA"));
    in.raw = text.getBytes(StandardCharsets.ISO_8859_1);
    return in;
  }

  private void framing() {
    String host = "Host: " + w.hostPort + "\r\n";
    String auth = "Authorization: Bearer " + w.keyA + "\r\n";
    String trigger = "POST /api/v1/tasks/smuggle/trigger HTTP/1.1\r\n" + host + auth + "Content-Type: application/json\r\n";
    String chunked = "2\r\n{}\r\n0\r\n\r\n";
    // Both framings (RFC 9112 6.3), however spelled: refused, connection closed, the pipelined request never answered.
    for (String te : List.of("Transfer-Encoding: chunked", "Transfer-Encoding:chunked", "Transfer-Encoding: CHUNKED", "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "transfer-encoding: chunked")) {
      raw("CL+TE " + te, trigger + "Content-Length: 4\r\n" + te + "\r\n\r\n" + chunked + "GET /health HTTP/1.1\r\n" + host + "\r\n").refused()
          .check("the pipelined request is not answered", a -> !a.body().contains("\"status\"") && !a.body().contains("\"id\""));
    }
    raw("two Content-Lengths", trigger + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x").refused();
    raw("negative Content-Length", trigger + "Content-Length: -1\r\n\r\n{}").refused();
    raw("Content-Length not a number", trigger + "Content-Length: abc\r\n\r\n{}").refused();
    raw("Content-Length overflow", trigger + "Content-Length: 99999999999999999999\r\n\r\n{}").refused();
    raw("bad chunk size", trigger + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n").refused().mayCloseSilently = true;
    raw("chunk size overflow", trigger + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n0\r\n\r\n").refused().mayCloseSilently = true;
    // Jackson reads a byte-order mark: a UTF-16 "{}" is a valid empty trigger, not an attack; it must just not fail.
    raw("UTF-16 body", trigger + "Content-Type: application/json; charset=utf-16\r\nContent-Length: 6\r\nConnection: close\r\n\r\n\u00fe\u00ff\u0000{\u0000}");
    // Malformed escapes and bytes in the path: a JSON 400, never a stack trace.
    for (String path : List.of("/%zz", "/health%G1", "/%", "/realtime/v1/runs/%E2%28", "/health?x=%zz", "/api/v3/runs/%C0%AF", "/%00",
        "/api/v1/runs/%ZZ/metadata", "/realtime/v1/streams/%/x", "/packets/%/a", "/health/%ED%A0%80", "/realtime/v1/runs?tags=%E2%82%AC%")) {
      raw("path " + path, "GET " + path + " HTTP/1.1\r\n" + host + auth + "Connection: close\r\n\r\n").refused();
    }
    raw("raw 0xFF in the path", "GET /api/v3/runs/run_\u00ff HTTP/1.1\r\n" + host + auth + "Connection: close\r\n\r\n").refused();
    raw("raw bidi bytes in the path", "GET /realtime/v1/runs/run_\u00e2\u0080\u00ae HTTP/1.1\r\n" + host + auth + "Connection: close\r\n\r\n").refused();
    // Request lines and headers a parser may choke on.
    for (String line : List.of("GET /health HTTP/1.2", "GET /health HTTP/2.0", "get /health HTTP/1.1", "FOO /health HTTP/1.1",
        "GET http://evil.example/health HTTP/1.1", "GET health HTTP/1.1", "OPTIONS * HTTP/1.1", "GET  /health  HTTP/1.1", "GET /health HTTP/1.0",
        "GET /health HTTP/9.9", "GET /health XTTP/1.1", " GET /health HTTP/1.1")) {
      raw("request line " + line, line + "\r\n" + host + "Connection: close\r\n\r\n").mayCloseSilently = true;
    }
    raw("bare LF", "GET /health HTTP/1.1\n" + host.replace("\r\n", "\n") + "Connection: close\n\n");
    raw("request line of 9,000 characters", "GET /health?" + "a".repeat(9000) + " HTTP/1.1\r\n" + host + "\r\n").expect(414);
    raw("10 KB header", "GET /health HTTP/1.1\r\n" + host + "X-Big: " + "b".repeat(10_000) + "\r\nConnection: close\r\n\r\n").expect(431);
    raw("500 headers", "GET /health HTTP/1.1\r\n" + host + "X-H: v\r\n".repeat(500) + "Connection: close\r\n\r\n").mayCloseSilently = true;
    raw("NUL in a header", "GET /health HTTP/1.1\r\n" + host + "X-A: a\u0000b\r\nConnection: close\r\n\r\n").mayCloseSilently = true;
    raw("header without a colon", "GET /health HTTP/1.1\r\n" + host + "NoColonHere\r\nConnection: close\r\n\r\n").refused().mayCloseSilently = true;
    raw("obs-fold", "GET /health HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\nConnection: close\r\n\r\n").mayCloseSilently = true;
    raw("space before the colon", "POST /api/v1/tasks/x/trigger HTTP/1.1\r\n" + host + auth + "Transfer-Encoding : chunked\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}").mayCloseSilently = true;
    raw("no Host", "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    String presign = "PUT /api/v2/packets/" + URLEncoder.encode(PACKET_PATH, StandardCharsets.UTF_8) + " HTTP/1.1\r\n" + auth;
    for (String bad : List.of("evil.example/x", "evil.example@x", "a b", "", "[::1", "evil.example:99999999")) {
      raw("presign with Host " + bad, presign + "Host: " + bad + "\r\nConnection: close\r\n\r\n").refused().mayCloseSilently = true;
    }
    raw("presign with X-Forwarded-Host twice", presign + host + "X-Forwarded-Host: evil.example\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n")
        .expect(200).check("no URL on the forwarded host", a -> !a.body().contains("evil"));
    // Half-open: a partial request line or headers, then nothing. Closed by the node with no answer.
    for (String partial : List.of("G", "GET /realtime/v1/runs/", "GET /health HTTP/1.1\r\n", "GET /health HTTP/1.1\r\n" + host + "X-Slow: ",
        "POST /api/v1/tasks/x/trigger HTTP/1.1\r\n" + host + auth + "Content-Type: application/json\r\n",
        "PUT /realtime/v1/streams/" + w.writerRun + "/self/x HTTP/1.1\r\n" + host, "")) {
      Input in = raw("half-open " + partial.length() + " bytes", partial);
      in.halfOpen = true;
    }
  }

  // --- helpers -------------------------------------------------------------------------------------

  private static List<String> mangled(String valid) {
    Set<String> out = new LinkedHashSet<>();
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
    out.add(valid.replace(":", "="));
    out.add("{\"a\":1,}");
    out.add("{\"a\":NaN}");
    out.add("{\"a\":\"\\x\"}");
    out.add("{\"a\" \"b\"}");
    out.add("{".repeat(2000) + "}".repeat(2000));
    return out.stream().filter(b -> !b.isBlank() && !isJsonObject(b)).toList();
  }

  static boolean isJsonObject(String body) {
    try {
      return io.vertx.core.json.Json.decodeValue(body) instanceof JsonObject;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private <T> T pick(List<T> list) {
    return list.get(random.nextInt(list.size()));
  }

  private boolean chance(double p) {
    return random.nextDouble() < p;
  }

  private String alnum(int n) {
    String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(chars.charAt(random.nextInt(chars.length())));
    }
    return s.toString();
  }

  private static String stripQuery(String path) {
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02X", b));
    }
    return s.toString();
  }

  private static JsonObject removed(JsonObject o, String key) {
    o.remove(key);
    return o;
  }

  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A JWT with any header and claims, signed HS256 with {@code key} whatever the header says. */
  static String jwt(JsonObject header, JsonObject claims, String key) {
    String unsigned = b64(header.encode()) + "." + b64(claims.encode());
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return unsigned + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(unsigned.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The token with its claims replaced and its signature kept. */
  private static String swapClaims(String token, JsonObject claims) {
    String[] parts = token.split("\\.");
    return parts[0] + "." + b64(claims.encode()) + "." + parts[2];
  }
}
