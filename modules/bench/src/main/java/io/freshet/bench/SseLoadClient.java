package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One process of the fan-out phases' load generator: SSE subscribers in a JVM of their own, so
 * that the node's heap, CPU and file descriptors are the node's (each subscriber is a socket on
 * each side, and a process may hold 20,000 files here). {@link LoadClients} starts as many as the
 * load needs and talks to each over stdin/stdout lines.
 *
 * <p>Ramps its subscribers (snapshot, then a live SSE stream each, runs assigned round robin,
 * connections spread over the given loopback source addresses), prints {@code HELD <held>
 * <failed>}, waits for {@code GO}, records every row delivered from then on (latency = arrival −
 * the row's own {@code updatedAt}: commit to client, on the machine's one clock), and on
 * {@code STOP} prints {@code RESULT <json>} and exits. Writes are the parent's.
 *
 * <p>Argument: a JSON spec file {@code {host, port, apiKey, runs: [...], subscribers, localAddresses: [...]}}.
 */
public final class SseLoadClient {

  private static final int RAMP_BATCH = 250;

  public static void main(String[] args) throws Exception {
    JsonObject spec = new JsonObject(Files.readString(Path.of(args[0])));
    String host = spec.getString("host", "127.0.0.1");
    int port = spec.getInteger("port");
    String apiKey = spec.getString("apiKey");
    List<String> runIds = spec.getJsonArray("runs").stream().map(Object::toString).toList();
    int target = spec.getInteger("subscribers");
    List<String> locals = spec.getJsonArray("localAddresses", new JsonArray().add("127.0.0.1")).stream().map(Object::toString).toList();
    boolean nchan = spec.getBoolean("nchan", false);

    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    List<HttpClientAgent> clients = new ArrayList<>();
    for (String local : locals) {
      HttpClientOptions options = new HttpClientOptions().setDefaultHost(host).setDefaultPort(port).setKeepAlive(true)
          .setLocalAddress(local);
      clients.add(vertx.httpClientBuilder().with(options).with(new PoolOptions().setHttp1MaxSize(50_000).setMaxWaitQueueSize(-1)).build());
    }

    AtomicBoolean recording = new AtomicBoolean();
    Histogram latency = new Histogram();
    AtomicLong rows = new AtomicLong();
    AtomicIntegerArray maxSeq = new AtomicIntegerArray(target);
    List<FeedSubscriber> subscribers = new ArrayList<>();
    int failed = 0;
    java.util.Set<String> failureKinds = new java.util.HashSet<>();
    for (int opened = 0; opened < target; ) {
      List<Future<Void>> batch = new ArrayList<>();
      int n = Math.min(RAMP_BATCH, target - opened);
      for (int i = 0; i < n; i++) {
        int index = opened + i;
        String run = runIds.get(index % runIds.size());
        FeedSubscriber.Sink sink = (seq, updatedAt, arrivedAt) -> {
          maxSeq.accumulateAndGet(index, seq, Math::max);
          if (recording.get()) {
            rows.incrementAndGet();
            if (updatedAt > 0) {
              latency.record(arrivedAt - updatedAt);
            }
          }
        };
        HttpClientAgent client = clients.get(index % clients.size());
        FeedSubscriber s = nchan ? FeedSubscriber.channel(vertx, client, run, sink) : new FeedSubscriber(vertx, client, apiKey, run, true, sink);
        subscribers.add(s);
        batch.add(s.start());
      }
      int batchFailed = 0;
      for (Future<Void> f : batch) {
        try {
          Await.of(f, 120);
        } catch (Exception e) {
          batchFailed++;
          // Why, once per kind: a refusal by the node reads differently from a client out of ports.
          if (failureKinds.add(String.valueOf(e.getMessage()).replaceAll("[0-9]+", "N"))) {
            System.err.println("subscriber failed: " + e.getMessage());
          }
        }
      }
      failed += batchFailed;
      opened += n;
      if (batchFailed > n / 2) {
        System.err.println("ramp stopped: " + batchFailed + " of " + n + " subscribers in the last batch failed");
        break;
      }
    }
    long deadline = System.currentTimeMillis() + 60_000;
    int expected = subscribers.size() - failed;
    while (System.currentTimeMillis() < deadline && subscribers.stream().filter(FeedSubscriber::connected).count() < expected) {
      Thread.sleep(100);
    }
    long held = subscribers.stream().filter(FeedSubscriber::connected).count();
    System.out.println("HELD " + held + " " + failed);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    if (!"GO".equals(in.readLine())) {
      System.exit(1);
    }
    recording.set(true);
    if (!"STOP".equals(in.readLine())) {
      System.exit(1);
    }
    recording.set(false);
    JsonArray seqs = new JsonArray();
    for (int i = 0; i < subscribers.size(); i++) {
      seqs.add(new JsonArray().add(i % runIds.size()).add(maxSeq.get(i)));
    }
    long connected = subscribers.stream().filter(FeedSubscriber::connected).count();
    long failures = subscribers.stream().mapToLong(s -> s.failures).sum();
    JsonObject result = new JsonObject().put("held", held).put("failed", failed).put("connected", connected)
        .put("failures", failures).put("rows", rows.get()).put("latency", latency.toJson()).put("maxSeq", seqs);
    System.out.println("RESULT " + result.encode());
    System.out.flush();
    subscribers.forEach(FeedSubscriber::close);
    System.exit(0);
  }
}
