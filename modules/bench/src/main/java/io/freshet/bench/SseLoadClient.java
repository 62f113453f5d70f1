package io.freshet.bench;

import io.freshet.bench.FreshnessClassifier.Tally;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The SSE scale phase's load generator, in its own JVM so the node's heap and file descriptors
 * are its own (each subscriber is one socket on each side, and a process may hold 20,000 here).
 *
 * <p>Talks to {@link ScaleBench} over stdin/stdout lines: ramps SSE subscribers over the given runs
 * (snapshot, then a live SSE stream each) in batches until the target or until a batch mostly
 * fails, prints {@code HELD <held> <failed>}, waits for {@code GO}, then updates the runs' metadata
 * at the given rate for the given time, waits out the tail, and prints {@code RESULT <json>}.
 *
 * <p>Arguments: {@code port apiKey runsFile subscribers changesPerSecond loadMs applyDelayMs}.
 */
public final class SseLoadClient {

  private static final int RAMP_BATCH = 250;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String apiKey = args[1];
    List<String> runIds = Files.readAllLines(Path.of(args[2])).stream().filter(s -> !s.isBlank()).toList();
    int target = Integer.parseInt(args[3]);
    int changesPerSecond = Integer.parseInt(args[4]);
    long loadMs = Long.parseLong(args[5]);
    long applyDelayMs = Long.parseLong(args[6]);

    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    HttpClientOptions options = new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true);
    HttpClientAgent feeds = vertx.httpClientBuilder().with(options).with(new PoolOptions().setHttp1MaxSize(50_000).setMaxWaitQueueSize(-1)).build();
    HttpClientAgent writes = vertx.httpClientBuilder().with(new HttpClientOptions(options))
        .with(new PoolOptions().setHttp1MaxSize(256).setMaxWaitQueueSize(-1)).build();
    WriteClient writer = new WriteClient(writes, apiKey);

    List<RunTrace> traces = runIds.stream().map(RunTrace::new).toList();
    List<FeedSubscriber> subscribers = new ArrayList<>();
    int failed = 0;
    for (int opened = 0; opened < target; ) {
      List<Future<Void>> batch = new ArrayList<>();
      int n = Math.min(RAMP_BATCH, target - opened);
      for (int i = 0; i < n; i++) {
        RunTrace trace = traces.get((opened + i) % traces.size());
        int index = trace.subscriber();
        FeedSubscriber s = new FeedSubscriber(vertx, feeds, apiKey, trace.runId, true,
            (seq, updatedAt, arrivedAt) -> trace.delivered(index, seq, arrivedAt, updatedAt));
        subscribers.add(s);
        batch.add(s.start());
      }
      int batchFailed = 0;
      for (Future<Void> f : batch) {
        try {
          Await.of(f, 60);
        } catch (Exception e) {
          batchFailed++;
        }
      }
      failed += batchFailed;
      opened += n;
      if (batchFailed > n / 2) {
        System.err.println("ramp stopped: " + batchFailed + " of " + n + " subscribers in the last batch failed");
        break;
      }
      if (opened % 2000 == 0) {
        System.err.println("  " + opened + " SSE subscribers opened");
      }
    }
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline && subscribers.stream().filter(FeedSubscriber::connected).count() < subscribers.size() - failed) {
      Thread.sleep(100);
    }
    long held = subscribers.stream().filter(FeedSubscriber::connected).count();
    System.out.println("HELD " + held + " " + failed);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    if (!"GO".equals(in.readLine())) {
      System.exit(1);
    }

    // Each run is updated every `interval` ms, runs staggered, so the node sees `changesPerSecond`.
    long interval = Math.max(1, Math.round(runIds.size() * 1000.0 / changesPerSecond));
    int writesPerRun = (int) Math.max(1, loadMs / interval);
    long start = System.currentTimeMillis();
    List<Future<Long>> done = new ArrayList<>();
    for (int i = 0; i < traces.size(); i++) {
      done.add(writer.pacedWrites(vertx, traces.get(i), start + interval * i / traces.size(), interval, writesPerRun, msg -> { }));
    }
    long last = 0;
    for (Future<Long> f : done) {
      last = Math.max(last, Await.of(f, 600));
    }
    Thread.sleep(Math.max(0, last + applyDelayMs + 1500 - System.currentTimeMillis()));
    long held2 = subscribers.stream().filter(FeedSubscriber::connected).count();
    FreshnessClassifier classifier = new FreshnessClassifier(applyDelayMs, BenchMain.STALE_TOLERANCE_MS, BenchMain.STRAND_GRACE_MS);
    Tally tally = new Tally();
    long writesDone = 0;
    for (RunTrace trace : traces) {
      List<RunTrace.Write> ws = trace.writes();
      writesDone += ws.size();
      for (List<RunTrace.Delivery> ds : trace.subscribers()) {
        tally.add(classifier.classify(ws, ds, start));
      }
    }
    double seconds = (last - start) / 1000.0;
    JsonObject result = new JsonObject().put("held", held).put("failed", failed).put("heldAfterLoad", held2)
        .put("writes", writesDone).put("changesPerSecond", writesDone / Math.max(0.001, seconds))
        .put("rows", tally.delivered).put("stale", tally.stale).put("stranded", tally.stranded).put("missing", tally.missing)
        .put("p50", tally.latency.percentile(50)).put("p99", tally.latency.percentile(99));
    System.out.println("RESULT " + result.encode());
    System.out.flush();
    subscribers.forEach(FeedSubscriber::close);
    System.exit(0);
  }
}
