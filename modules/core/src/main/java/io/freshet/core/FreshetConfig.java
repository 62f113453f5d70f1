package io.freshet.core;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every configuration key, with its default and meaning, in one place.
 *
 * <p>Values are resolved in this order, later winning: the defaults below, the JSON config file
 * ({@code conf/freshet.json}, nested by the dotted path), environment variables
 * ({@code FRESHET_} + the path in upper snake case, e.g. {@code gate.marginMs} →
 * {@code FRESHET_GATE_MARGIN_MS}), and overrides passed programmatically (tests, benchmarks).
 */
public final class FreshetConfig {

  /** A configuration key: a dotted path, its default value and what it means. */
  public record Key<T>(String path, T defaultValue, String description) {
    public String envName() {
      return "FRESHET_" + path.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }
  }

  private static final List<Key<?>> KEYS = new ArrayList<>();

  private static <T> Key<T> key(String path, T defaultValue, String description) {
    Key<T> key = new Key<>(path, defaultValue, description);
    KEYS.add(key);
    return key;
  }

  // --- HTTP edge -------------------------------------------------------------------------------
  public static final Key<String> HTTP_HOST = key("http.host", "0.0.0.0", "Interface the HTTP server binds.");
  public static final Key<Integer> HTTP_PORT = key("http.port", 3030, "HTTP port for the API, the realtime feeds, /metrics and /health.");
  public static final Key<Integer> HTTP_INSTANCES = key("http.instances", 2, "Web verticle instances (event loops serving HTTP).");
  public static final Key<Integer> HTTP_BODY_LIMIT_BYTES = key("http.bodyLimitBytes", 2 * 1024 * 1024, "Largest request body accepted; larger bodies get 413.");
  public static final Key<String> HTTP_PUBLIC_BASE_URL = key("http.publicBaseUrl", "",
      "Base URL clients reach the cluster at, for the presigned packet URLs it hands out (e.g. https://realtime.example.com); empty: the request's own scheme and Host header, which must be a plain host[:port] (400 otherwise). X-Forwarded-Host/-Proto are never used (anyone can send them): set this behind a proxy.");
  public static final Key<Integer> HTTP_REQUEST_HEADER_TIMEOUT_MS = key("http.requestHeaderTimeoutMs", 10000,
      "A connection must send its whole request line and headers within this long of opening (or of its first byte after a response), however slowly its bytes come; otherwise it is closed, and never reaches a handler.");
  public static final Key<Integer> HTTP_IDLE_TIMEOUT_MS = key("http.idleTimeoutMs", 60000,
      "A connection between requests, or whose ordinary request moves no byte either way, is closed after this long. Held long-polls, SSE responses and stream readers are exempt (their own deadlines and keep-alives); stream writers have streams.writerIdleTimeoutMs.");
  public static final Key<Integer> HTTP_WRITE_DEADLINE_MS = key("http.writeDeadlineMs", 2000,
      "A write whose X-Request-Start stamp (set by the load balancer when it received the request) is older than this when the node gets to it is refused with 503 and nothing is written: a frozen node never applies, on resuming, writes the balancer already answered 503 for. Keep it at most the balancer's write timeout. No stamp: no check. 0: never check.");
  public static final Key<String> HTTP_CORS_ORIGINS = key("http.corsOrigins", "*", "Origins browsers may call from: * (any), or a comma-separated list such as https://app.example,https://admin.example; a request from another origin gets 403.");

  // --- Database --------------------------------------------------------------------------------
  public static final Key<String> DB_PRIMARY_URI = key("db.primary.uri", "postgresql://freshet:freshet@127.0.0.1:15432/freshet", "Primary: every write and the schema migrations.");
  public static final Key<String> DB_PRIMARY_URIS = key("db.primary.uris", "",
      "Every host that may be the primary, comma-separated (e.g. the primary and the standbys that may be promoted); when set it replaces db.primary.uri. Writes, the heartbeat and the fallback go to the one not in recovery, found again after a failover; while none is writable, writes get 503 with retry-after.");
  public static final Key<Integer> DB_PRIMARY_POOL_SIZE = key("db.primary.poolSize", 8, "Connections to the primary per node.");
  public static final Key<String> DB_REPLICA_URI = key("db.replica.uri", "postgresql://freshet:freshet@127.0.0.1:15433/freshet", "Read replica the feeds hydrate from. Empty: read the primary, lag 0, gate skipped.");
  public static final Key<String> DB_REPLICA_URIS = key("db.replica.uris", "",
      "Several read replicas, comma-separated; when set it replaces db.replica.uri. Each has its own pool, lag measure and replay position: a gated read goes to a replica known or expected to have applied its commit, the gate waits on the fastest one in rotation, and reads are spread over those that qualify.");
  public static final Key<Integer> DB_REPLICA_POOL_SIZE = key("db.replica.poolSize", 8, "Connections to each replica per node.");
  public static final Key<Integer> DB_REPLICA_LEAVE_ABOVE_MS = key("db.replica.leaveAboveMs", 5000,
      "A replica whose lag estimate exceeds this (paused, far behind), or whose probes fail twice in a row (down), leaves the rotation: no read goes to it. It comes back once its probes answer and its estimate is below half of this.");

  // --- Cluster ---------------------------------------------------------------------------------
  public static final Key<Boolean> CLUSTER_ENABLED = key("cluster.enabled", false, "Join a Hazelcast cluster so change records and polls cross nodes.");
  public static final Key<String> CLUSTER_NAME = key("cluster.name", "freshet", "Hazelcast cluster name; nodes with another name never merge.");
  public static final Key<String> CLUSTER_HOST = key("cluster.host", "127.0.0.1", "Address this node's Hazelcast member and event bus bind to.");
  public static final Key<Integer> CLUSTER_PORT = key("cluster.port", 5701, "Hazelcast member port of this node.");
  public static final Key<String> CLUSTER_MEMBERS = key("cluster.members", "127.0.0.1:5701,127.0.0.1:5702", "Comma-separated host:port list of members to join over TCP (no multicast), with cluster.discovery=members.");
  public static final Key<String> CLUSTER_DISCOVERY = key("cluster.discovery", "members", "How members find each other: members (TCP to cluster.members) or kubernetes (Hazelcast's Kubernetes discovery: a DNS lookup of cluster.kubernetes.serviceDns, else the Kubernetes API). deploy/kubernetes/freshet.yaml is an example.");
  public static final Key<String> CLUSTER_KUBERNETES_SERVICE_DNS = key("cluster.kubernetes.serviceDns", "", "With cluster.discovery=kubernetes: the DNS name of a headless Service over the nodes' pods (e.g. freshet-cluster.NAMESPACE.svc.cluster.local); empty: ask the Kubernetes API instead (the pod's service account needs get/list on endpoints and pods).");
  public static final Key<String> CLUSTER_KUBERNETES_NAMESPACE = key("cluster.kubernetes.namespace", "", "With the Kubernetes API lookup: the namespace to look in (empty: the pod's own).");
  public static final Key<String> CLUSTER_KUBERNETES_SERVICE_NAME = key("cluster.kubernetes.serviceName", "", "With the Kubernetes API lookup: the Service whose endpoints are the members (empty: every pod of the namespace).");

  // --- Read-your-writes gate -------------------------------------------------------------------
  public static final Key<String> GATE_MODE = key("gate.mode", "gated", "gated (Freshet), ungated (hydrate at once), fixed-delay (always wait gate.maxDelayMs), primary-reads (hydrate from the primary).");
  public static final Key<String> GATE_REPLICAS = key("gate.replicas", "fastest",
      "With several replicas: fastest (the gate waits on the fastest replica in rotation, each read goes to one that has applied its commit) or worst (the gate waits on the slowest and reads are spread over all of them, as behind a reader endpoint; trigger.dev's way, kept as the benchmark's baseline).");
  public static final Key<Integer> GATE_MARGIN_MS = key("gate.marginMs", 10, "Added to the lag estimate: clock skew between writer and router plus scheduling.");
  public static final Key<Integer> GATE_MAX_DELAY_MS = key("gate.maxDelayMs", 1000, "Cap on any single gate or retry delay.");
  public static final Key<Integer> GATE_STALE_RETRIES = key("gate.staleRetries", 3, "Re-hydrates of a stale row before it is delivered anyway (liveness).");
  public static final Key<Integer> GATE_MIN_RETRY_DELAY_MS = key("gate.minRetryDelayMs", 25, "Shortest wait before re-hydrating a stale row.");
  public static final Key<Integer> GATE_FRESH_WITHIN_MS = key("gate.freshWithinMs", 1000, "A change the replica cannot serve fresh this long after its commit is read from the primary instead (for that run alone), within the fallback budget.");
  public static final Key<Integer> GATE_PRIMARY_FALLBACK_PER_SEC = key("gate.primaryFallbackPerSec", 50, "Per-node budget of fallback reads on the primary per second; 0 turns the fallback off (stale rows are then delivered anyway and recovered when the replica applies them).");
  public static final Key<Integer> GATE_MAX_WATCHED_RUNS_PER_ENV = key("gate.maxWatchedRunsPerEnv", 10000, "Runs whose latest change the replica has not applied yet, watched until it does, per environment and router (and streams per node); past it the oldest is left to the backstop (freshet_stalled_runs_dropped_total).");

  // --- Lag sampler -----------------------------------------------------------------------------
  public static final Key<Integer> LAG_SAMPLE_INTERVAL_MS = key("lag.sampleIntervalMs", 250, "Probe cadence on the replica while feeds are active.");
  public static final Key<Integer> LAG_IDLE_AFTER_MS = key("lag.idleAfterMs", 30000, "Stop probing after this long without active feeds.");
  public static final Key<Boolean> LAG_HEARTBEAT = key("lag.heartbeat", true, "Measure the replica mid-apply with a heartbeat row: one node writes it on the primary every lag.sampleIntervalMs while any feed is active, every node times its replica's apply of it.");
  public static final Key<Integer> LAG_WINDOW_MS = key("lag.windowMs", 5000, "The estimate is the largest sample in this sliding window.");
  public static final Key<Integer> LAG_DEFAULT_MS = key("lag.defaultMs", 30, "Estimate before any sample has landed.");
  public static final Key<Integer> LAG_OBSERVED_FLOOR_TTL_MS = key("lag.observedFloorTtlMs", 60000, "How long a tripwire observation floors the estimate.");
  public static final Key<Integer> LAG_OBSERVED_FLOOR_DECAY_MS = key("lag.observedFloorDecayMs", 60000, "After its TTL, an observation's floor falls linearly to nothing over this long.");
  public static final Key<String> LAG_AURORA_ROWS = key("lag.auroraRows", "auto",
      "On Aurora, which rows of aurora_replica_status() are a replica's lag: own (the instance its connections reach, for instance endpoints), slowest (the largest reader lag, for a reader, custom or proxy endpoint over several readers), or auto (own for a host named like an instance endpoint, NAME.ID.REGION.rds.amazonaws.com; slowest for any other). A replica in own that is seen to reach a second instance turns to slowest and logs it.");
  public static final Key<Integer> LAG_MAX_MS = key("lag.maxMs", 60000, "Samples and observations are clamped to [0, lag.maxMs].");

  // --- Router ----------------------------------------------------------------------------------
  public static final Key<Integer> ROUTER_INSTANCES = key("router.instances", 2, "Router verticle instances per node; environments are spread over them by hash.");
  public static final Key<Integer> ROUTER_LIVE_POLL_TIMEOUT_MS = key("router.livePollTimeoutMs", 20000, "How long a live long-poll is held before its backstop read.");
  public static final Key<Double> ROUTER_LIVE_POLL_JITTER = key("router.livePollJitter", 0.15, "Hold time jitter ratio, spreading backstops of feeds opened together.");
  public static final Key<Integer> ROUTER_REPLAY_WINDOW_MS = key("router.replayWindowMs", 2000, "Records kept per environment to replay into feeds registered just after them.");
  public static final Key<Integer> ROUTER_REPLAY_MAX_RUNS = key("router.replayMaxRuns", 512, "Replay buffer cap per environment (latest record per run).");
  public static final Key<Integer> ROUTER_LINGER_MS = key("router.lingerMs", 5000, "An environment subscription lingers this long after its last feed closes.");
  public static final Key<Integer> ROUTER_SHAPE_IDLE_TTL_MS = key("router.shapeIdleTtlMs", 120000, "A feed (handle) nobody polls for this long is dropped; its handle then gets 409.");
  public static final Key<Integer> ROUTER_MAX_RUNS_PER_FEED = key("router.maxRunsPerFeed", 1000, "Most runs a tag or batch feed resolves.");
  public static final Key<Integer> ROUTER_HYDRATE_CONCURRENCY = key("router.hydrateConcurrency", 4, "Hydrate queries in flight per environment; later wakes batch up behind them.");
  public static final Key<Integer> ROUTER_HYDRATE_BATCH_MAX = key("router.hydrateBatchMax", 500, "Most runs in one hydrate query (and most streams in one read of a node's streams).");
  public static final Key<Integer> ROUTER_COALESCE_MS = key("router.coalesceMs", 2, "Changes (and stream commits) due within this many ms of a read round join it.");
  public static final Key<Integer> ROUTER_ROW_IMAGE_MAX_BYTES = key("router.rowImageMaxBytes", 16 * 1024, "A change record carries the committed row up to this size, and routers serve it at once (no gate, no replica read); a larger row, or 0 here, goes through the gate. Stream announcements carry their committed chunks up to the same size.");
  public static final Key<Integer> ROUTER_RESYNC_WINDOW_MS = key("router.resyncWindowMs", 30000, "After the cluster's membership changes (a member joins, leaves or merges back) or this node finds it was frozen, records may be lost until the cluster's subscriptions settle: for this long every feed log with subscribers is read again every router.resyncEveryMs. 0: read once at the change, and once after the lag.");
  public static final Key<Integer> ROUTER_RESYNC_EVERY_MS = key("router.resyncEveryMs", 500, "How often feed logs with subscribers are read again during router.resyncWindowMs.");
  public static final Key<Integer> ROUTER_LOG_RETENTION = key("router.logRetention", 64, "Emissions a feed remembers to resume a client from an older offset.");

  // --- Packets (offloaded payloads and outputs) ---------------------------------------------------
  public static final Key<Integer> PACKETS_MAX_BYTES = key("packets.maxBytes", 10 * 1024 * 1024,
      "Largest packet (an offloaded payload or output) an upload may store; larger uploads get 413.");
  public static final Key<Integer> PACKETS_URL_TTL_SECONDS = key("packets.urlTtlSeconds", 300,
      "How long a presigned packet URL stays valid (trigger.dev's 300 s).");
  public static final Key<String> PACKETS_BASE_URL = key("packets.baseUrl", "",
      "Base URL of a separate origin for presigned packet URLs (e.g. https://packets.example.com, routed to this cluster), so that uploaded bytes are never served from the API's origin; empty: the API's own (http.publicBaseUrl). Downloads are attachments with CSP sandbox either way.");

  // --- Realtime streams ------------------------------------------------------------------------
  public static final Key<Integer> STREAMS_MAX_CHUNK_BYTES = key("streams.maxChunkBytes", 512 * 1024,
      "Largest chunk (one NDJSON line of a writer's body, or one single append); larger gets 413 (trigger.dev's 512 KiB append limit).");
  public static final Key<Integer> STREAMS_MAX_CHUNKS = key("streams.maxChunksPerStream", 100_000,
      "Most chunks one stream may hold; an append past it gets 413.");
  public static final Key<Long> STREAMS_MAX_BYTES = key("streams.maxBytesPerStream", 10L * 1024 * 1024,
      "Most bytes of chunks one stream may hold (trigger.dev's 10 MB); an append past it gets 413.");
  public static final Key<Integer> STREAMS_MAX_PER_RUN = key("streams.maxStreamsPerRun", 10,
      "Most streams one run may have (trigger.dev's 10); registering another gets 422.");
  public static final Key<Integer> STREAMS_RETENTION_HOURS = key("streams.retentionHours", 24,
      "A stream and its chunks are deleted this long after it closed or last changed (trigger.dev keeps v1 streams a day).");
  public static final Key<Integer> STREAMS_TAIL_CHUNKS = key("streams.tailChunks", 2000,
      "Chunks of each followed stream a node keeps in memory for readers that join or reconnect; older ones are read from the replica.");
  public static final Key<Integer> STREAMS_WRITER_IDLE_TIMEOUT_MS = key("streams.writerIdleTimeoutMs", 60000,
      "A stream writer's body that sends no byte for this long gets 408 and its connection is closed: what arrived is kept and the stream stays open, as when a connection drops (the SDK resumes from X-Last-Chunk-Index).");
  public static final Key<Integer> STREAMS_DEFAULT_TIMEOUT_SECONDS = key("streams.defaultTimeoutSeconds", 60,
      "A stream read ends after this many seconds without a chunk unless the reader sends Timeout-Seconds (1 to 600), as on trigger.dev.");

  // --- Realtime HTTP ---------------------------------------------------------------------------
  public static final Key<Long> REALTIME_MAX_CREATED_AT_WINDOW_MS = key("realtime.maxCreatedAtWindowMs", 604_800_000L,
      "Cap on a tag feed's createdAt window (7 days); a feed that names no createdAt gets trigger.dev's 24 h (or the cap, if smaller).");
  public static final Key<Integer> REALTIME_SSE_MAX_DURATION_MS = key("realtime.sseMaxDurationMs", 60000, "An SSE response is closed after this long; the client reconnects from its offset.");
  public static final Key<Integer> REALTIME_SSE_MAX_BEHIND_ENTRIES = key("realtime.sseMaxBehindEntries", 256, "An SSE session whose socket stays full while its log grows this many entries is closed (the client resumes from its offset).");
  public static final Key<Integer> REALTIME_SSE_KEEP_ALIVE_MS = key("realtime.sseKeepAliveMs", 15000, "A ': keep-alive' comment is sent after this much silence.");
  public static final Key<Integer> REALTIME_MAX_CONNECTIONS_PER_ENV = key("realtime.maxConnectionsPerEnv", 100000, "Concurrent live connections per environment across the cluster; 429 past it.");
  public static final Key<Integer> REALTIME_MAX_CONNECTIONS_PER_TOKEN = key("realtime.maxConnectionsPerToken", 100,
      "Concurrent live connections (held long-polls, SSE feeds, stream readers) one public access token may hold on a node; 429 with retry-after past it, while the rest of its environment is unaffected. A page follows a few runs and streams.");
  public static final Key<Integer> REALTIME_MAX_CONNECTIONS_PER_SECRET_KEY = key("realtime.maxConnectionsPerSecretKey", 10000,
      "Concurrent live connections an environment's secret key may hold on a node (a backend following runs for its own clients); 429 with retry-after past it.");
  public static final Key<Integer> REALTIME_FEED_OPENS_PER_SEC_PER_TOKEN = key("realtime.feedOpensPerSecPerToken", 20,
      "Feed opens (offset=-1 or now: each reads the replica and may start a feed log) one public access token may make per second on a node, in bursts of up to five seconds' worth; 429 with retry-after past it.");
  public static final Key<Integer> REALTIME_FEED_OPENS_PER_SEC_PER_SECRET_KEY = key("realtime.feedOpensPerSecPerSecretKey", 200,
      "Feed opens a secret key may make per second on a node, in bursts of up to five seconds' worth; 429 with retry-after past it.");

  public static final Key<Integer> REALTIME_MAX_FEEDS_PER_ENV = key("realtime.maxFeedsPerEnv", 20000,
      "Feed logs one environment may hold on a node (each shared by every client of its feed, a few tens of KB for a run's feed, dropped router.shapeIdleTtlMs after its last use); past it a new feed gets 429 with retry-after and the logs already open keep serving (freshet_feeds_refused_total{bound=env}).");
  public static final Key<Integer> REALTIME_MAX_FEEDS_PER_TOKEN = key("realtime.maxFeedsPerToken", 100,
      "Feed logs one public access token may start on a node, so one credential cannot take its environment's realtime.maxFeedsPerEnv; 429 with retry-after past it (freshet_feeds_refused_total{bound=token}). Joining a log that is already open is free.");

  // --- Publisher -------------------------------------------------------------------------------
  public static final Key<Integer> PUBLISHER_FLUSH_INTERVAL_MS = key("publisher.metadataFlushIntervalMs", 200, "Parent and root metadata operations are buffered and written this often.");
  public static final Key<Integer> PUBLISHER_MAX_METADATA_BYTES = key("publisher.maxMetadataBytes", 256 * 1024, "Largest metadata document; larger gets 413.");
  public static final Key<Integer> PUBLISHER_MAX_TAGS = key("publisher.maxTagsPerRun", 10, "Most tags a run may carry; more gets 422.");

  // --- Testing ---------------------------------------------------------------------------------
  public static final Key<Boolean> TEST_HOOKS = key("test.hooks", false, "Fault-injection hooks for the fault suite (POST /_test/hooks, e.g. dropping change records at this node). Never in production.");

  private final Map<String, Object> values;

  private FreshetConfig(Map<String, Object> values) {
    this.values = values;
  }

  public static List<Key<?>> keys() {
    return Collections.unmodifiableList(KEYS);
  }

  public static FreshetConfig defaults() {
    return resolve(new JsonObject(), Map.of(), new JsonObject());
  }

  /** Defaults, overlaid by the file's JSON, then environment variables, then {@code overrides} (flat dotted keys). */
  public static FreshetConfig resolve(JsonObject file, Map<String, String> env, JsonObject overrides) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (Key<?> key : KEYS) {
      Object value = key.defaultValue();
      Object fromFile = lookup(file, key.path());
      if (fromFile != null) {
        value = coerce(key, fromFile, "config file");
      }
      String fromEnv = env.get(key.envName());
      if (fromEnv != null) {
        value = coerce(key, fromEnv, key.envName());
      }
      if (overrides.containsKey(key.path())) {
        value = coerce(key, overrides.getValue(key.path()), "override");
      }
      values.put(key.path(), value);
    }
    for (String name : overrides.fieldNames()) {
      if (KEYS.stream().noneMatch(k -> k.path().equals(name))) {
        throw new IllegalArgumentException("unknown config key: " + name);
      }
    }
    return new FreshetConfig(values);
  }

  /** A copy with some keys replaced (flat dotted keys). */
  public FreshetConfig with(JsonObject overrides) {
    Map<String, Object> copy = new LinkedHashMap<>(values);
    for (String name : overrides.fieldNames()) {
      Key<?> key = KEYS.stream().filter(k -> k.path().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown config key: " + name));
      copy.put(name, coerce(key, overrides.getValue(name), "override"));
    }
    return new FreshetConfig(copy);
  }

  @SuppressWarnings("unchecked")
  /** The hosts that may be the primary: db.primary.uris when set, else db.primary.uri. */
  public List<String> primaryUris() {
    return uriList(get(DB_PRIMARY_URIS), get(DB_PRIMARY_URI));
  }

  /** The read replicas, in order: db.replica.uris when set, else db.replica.uri (empty: none, feeds read the primary). */
  public List<String> replicaUris() {
    return uriList(get(DB_REPLICA_URIS), get(DB_REPLICA_URI));
  }

  private static List<String> uriList(String several, String one) {
    String listed = several == null || several.isBlank() ? (one == null ? "" : one) : several;
    return java.util.Arrays.stream(listed.split(",")).map(String::trim).filter(u -> !u.isEmpty()).toList();
  }

  public <T> T get(Key<T> key) {
    return (T) values.get(key.path());
  }

  public int getInt(Key<Integer> key) {
    return get(key);
  }

  /** Flat dotted view, handy to pass to a verticle as its config. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    values.forEach(json::put);
    return json;
  }

  /** Rebuilds a config from {@link #toJson()}. */
  public static FreshetConfig fromJson(JsonObject flat) {
    return defaults().with(flat);
  }

  private static Object lookup(JsonObject json, String path) {
    Object current = json;
    for (String part : path.split("\\.")) {
      if (!(current instanceof JsonObject obj) || !obj.containsKey(part)) {
        return null;
      }
      current = obj.getValue(part);
    }
    return current instanceof JsonObject ? null : current;
  }

  private static Object coerce(Key<?> key, Object raw, String source) {
    Object def = key.defaultValue();
    try {
      if (def instanceof Integer) {
        return raw instanceof Number n ? n.intValue() : Integer.parseInt(raw.toString().trim());
      }
      if (def instanceof Long) {
        return raw instanceof Number n ? n.longValue() : Long.parseLong(raw.toString().trim());
      }
      if (def instanceof Double) {
        return raw instanceof Number n ? n.doubleValue() : Double.parseDouble(raw.toString().trim());
      }
      if (def instanceof Boolean) {
        if (raw instanceof Boolean b) {
          return b;
        }
        String s = raw.toString().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("1")) {
          return true;
        }
        if (s.equals("false") || s.equals("0")) {
          return false;
        }
        throw new IllegalArgumentException(s);
      }
      return raw.toString();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "config " + key.path() + " from " + source + ": cannot read '" + raw + "' as " + def.getClass().getSimpleName());
    }
  }
}
