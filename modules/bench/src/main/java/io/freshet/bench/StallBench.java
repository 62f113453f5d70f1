package io.freshet.bench;

import io.freshet.server.FreshetNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The stall phase: the same workload in three modes while the standby's replay is paused for
 * {@code stallPauseMs} in the middle of it. {@code gated} is Freshet with its primary fallback;
 * {@code gated-no-fallback} is the gate without it (stale rows delivered when retries run out, as
 * trigger.dev does, then recovered when the replica resumes); {@code primary-reads} reads every row
 * from the primary. One SSE subscriber per run; each run's metadata replaced every
 * {@code stallIntervalMs}, for a second before the pause, through it, and three seconds after.
 *
 * <p>Figures, per mode: <b>stale</b> rows (client side: a row older than a write whose PUT returned
 * more than {@code gate.freshWithinMs} + 100 ms before the row arrived; and the node's own count of
 * rows delivered below their watermark, {@code gave_up}); write-to-arrival (first row with
 * {@code seq ≥ k}) for the writes committed during the pause and for all; for the writes committed
 * during the pause, arrival minus the resume (negative: served before the replica resumed); and
 * reads on the primary per change committed during the pause.
 */
final class StallBench {

  /** One mode's figures. */
  record Result(String mode, long writes, long pausedWrites, long rows, long stale, double gaveUp, Histogram pauseLatency,
      Histogram allLatency, long resumeToLastMs, double primaryReads, long missing, double nodeCpu) {
    double primaryReadsPerPausedChange() {
      return pausedWrites == 0 ? Double.NaN : primaryReads / pausedWrites;
    }
  }

  static final long FRESH_WITHIN_MS = 1000;

  private final Vertx vertx;
  private final Rig rig;
  private final BenchSettings settings;
  private final Consumer<String> progress;
  private final NodeStarter nodes;

  interface NodeStarter {
    FreshetNode start(String mode, JsonObject extra) throws Exception;
  }

  StallBench(Vertx vertx, Rig rig, BenchSettings settings, NodeStarter nodes, Consumer<String> progress) {
    this.vertx = vertx;
    this.rig = rig;
    this.settings = settings;
    this.nodes = nodes;
    this.progress = progress;
  }

  List<Result> run() throws Exception {
    rig.setApplyDelay(settings.stallDelayMs());
    List<Result> results = new ArrayList<>();
    for (String mode : settings.stallModes()) {
      JsonObject extra = new JsonObject();
      extra.put("router.livePollTimeoutMs", 120_000); // no backstop inside the phase: what arrives is the mode's doing
      FreshetNode node = nodes.start(mode, extra);
      try (BenchMain.NodeClients clients = new BenchMain.NodeClients(vertx, node)) {
        results.add(one(mode, node, clients));
      } finally {
        rig.resumeReplay();
        Await.of(node.stop(), 60);
      }
    }
    return results;
  }

  private Result one(String mode, FreshetNode node, BenchMain.NodeClients clients) throws Exception {
    List<RunTrace> traces = new ArrayList<>();
    for (int i = 0; i < settings.stallRuns(); i++) {
      traces.add(new RunTrace(Await.of(clients.writer.trigger("bench-stall", new JsonObject().put("seq", 0)), 30)));
    }
    List<FeedSubscriber> subscribers = new ArrayList<>();
    for (RunTrace trace : traces) {
      int index = trace.subscriber();
      FeedSubscriber s = new FeedSubscriber(vertx, clients.feeds, clients.apiKey, trace.runId, true,
          (seq, updatedAt, arrivedAt) -> trace.delivered(index, seq, arrivedAt, updatedAt));
      subscribers.add(s);
      Await.of(s.start(), 30);
    }
    long settle = System.currentTimeMillis() + settings.stallDelayMs() + 2000;
    while (System.currentTimeMillis() < settle || subscribers.stream().anyMatch(s -> !s.connected())) {
      Thread.sleep(20);
    }
    NodeMeters meters = new NodeMeters(node.registry());
    NodeMeters.Reading before = meters.read();
    double cpuBefore = ProcessCpu.self();
    long interval = settings.stallIntervalMs();
    long pre = 1000;
    long post = 3000;
    int count = (int) ((pre + settings.stallPauseMs() + post) / interval);
    long start = System.currentTimeMillis();
    List<Future<Long>> done = new ArrayList<>();
    for (int i = 0; i < traces.size(); i++) {
      done.add(clients.writer.pacedWrites(vertx, traces.get(i), start + interval * i / traces.size(), interval, count, progress));
    }
    Thread.sleep(Math.max(0, start + pre - System.currentTimeMillis()));
    long pausedAt = System.currentTimeMillis();
    rig.pauseReplay();
    Thread.sleep(Math.max(0, pausedAt + settings.stallPauseMs() - System.currentTimeMillis()));
    long resumedAt = System.currentTimeMillis();
    rig.resumeReplay();
    long last = 0;
    for (Future<Long> f : done) {
      last = Math.max(last, Await.of(f, 600));
    }
    Thread.sleep(Math.max(0, last + settings.stallDelayMs() + 3000 - System.currentTimeMillis()));
    NodeMeters.Reading used = meters.read().minus(before);
    double cpu = ProcessCpu.self() - cpuBefore;
    subscribers.forEach(FeedSubscriber::close);

    long writes = 0;
    long pausedWrites = 0;
    long rows = 0;
    long stale = 0;
    long missing = 0;
    long resumeToLast = Long.MIN_VALUE;
    Histogram pauseLatency = new Histogram();
    Histogram allLatency = new Histogram();
    for (RunTrace trace : traces) {
      List<RunTrace.Write> ws = trace.writes();
      List<RunTrace.Delivery> ds = trace.subscribers().get(0);
      rows += ds.size();
      for (RunTrace.Delivery d : ds) {
        long newestSettled = ws.stream().filter(w -> w.returnedAtMs() < d.arrivedAtMs() - FRESH_WITHIN_MS - 100)
            .mapToLong(RunTrace.Write::seq).max().orElse(0);
        if (d.seq() < newestSettled) {
          stale++;
        }
      }
      for (RunTrace.Write w : ws) {
        writes++;
        boolean paused = w.returnedAtMs() >= pausedAt && w.returnedAtMs() < resumedAt;
        RunTrace.Delivery covering = ds.stream().filter(d -> d.seq() >= w.seq() && d.arrivedAtMs() >= w.sentAtMs()).findFirst().orElse(null);
        if (covering == null) {
          missing++;
          continue;
        }
        long latency = covering.arrivedAtMs() - w.returnedAtMs();
        allLatency.record(Math.max(0, latency));
        if (paused) {
          pausedWrites++;
          pauseLatency.record(Math.max(0, latency));
          resumeToLast = Math.max(resumeToLast, covering.arrivedAtMs() - resumedAt);
        }
      }
    }
    double primaryReads = mode.equals("primary-reads") ? used.hydrates() : used.fallbackReads();
    Result r = new Result(mode, writes, pausedWrites, rows, stale, used.staleGaveUp(), pauseLatency, allLatency,
        resumeToLast == Long.MIN_VALUE ? 0 : resumeToLast, primaryReads, missing, cpu);
    progress.accept(String.format(Locale.ROOT, "stall %-17s %d writes (%d during the %d s pause), %d rows, stale %d (node: %.0f gave up), "
            + "during the pause p50/p99/max %d/%d/%d ms, all p99 %d ms, last paused write +%d ms after the resume, %.2f primary reads per paused change",
        mode, writes, pausedWrites, settings.stallPauseMs() / 1000, rows, stale, r.gaveUp(), pauseLatency.percentile(50),
        pauseLatency.percentile(99), pauseLatency.percentile(100), allLatency.percentile(99), r.resumeToLastMs(), r.primaryReadsPerPausedChange()));
    return r;
  }
}
