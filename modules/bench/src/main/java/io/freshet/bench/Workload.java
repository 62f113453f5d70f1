package io.freshet.bench;

import io.freshet.bench.FreshnessClassifier.Tally;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One sweep point on one node: triggers {@code runs} runs, follows each with one subscriber on the
 * real feed endpoint (alternately long-poll and SSE), updates every run's metadata through the
 * write API every {@code intervalMs} with {@code {"seq": k, "writtenAt": ms}} ({@code writes} times,
 * each run's writes serial, runs staggered over the interval), then keeps silent for the quiet
 * tail ({@code applyDelay + tailMs}) so a stranded final change shows, and classifies what arrived.
 */
final class Workload {

  /** What one point needs. */
  record Spec(String mode, long applyDelayMs, long intervalMs, int runs, int writesPerRun, long tailMs) {}

  /** Statements per metadata update on the primary (read, then conditional update), per trigger (insert). */
  static final int PRIMARY_STATEMENTS_PER_UPDATE = 2;

  private final Vertx vertx;
  private final HttpClientAgent feeds;
  private final WriteClient writer;
  private final String apiKey;
  private final NodeMeters meters;
  private final Consumer<String> progress;

  Workload(Vertx vertx, HttpClientAgent feeds, WriteClient writer, String apiKey, NodeMeters meters, Consumer<String> progress) {
    this.vertx = vertx;
    this.feeds = feeds;
    this.writer = writer;
    this.apiKey = apiKey;
    this.meters = meters;
    this.progress = progress;
  }

  SweepPoint run(Spec spec) throws Exception {
    long startedAt = System.currentTimeMillis();
    List<RunTrace> traces = new ArrayList<>();
    List<Future<String>> triggered = new ArrayList<>();
    for (int i = 0; i < spec.runs(); i++) {
      triggered.add(writer.trigger("bench-" + spec.mode().replace('+', '-'), new JsonObject().put("seq", 0).put("writtenAt", System.currentTimeMillis())));
    }
    for (Future<String> f : triggered) {
      traces.add(new RunTrace(Await.of(f, 30)));
    }
    List<FeedSubscriber> subscribers = new ArrayList<>();
    List<Future<Void>> opened = new ArrayList<>();
    int lp = 0;
    int sse = 0;
    for (int i = 0; i < traces.size(); i++) {
      RunTrace trace = traces.get(i);
      int index = trace.subscriber();
      boolean useSse = i % 2 == 1;
      if (useSse) {
        sse++;
      } else {
        lp++;
      }
      FeedSubscriber s = new FeedSubscriber(vertx, feeds, apiKey, trace.runId, useSse,
          (seq, updatedAt, arrivedAt) -> trace.delivered(index, seq, arrivedAt, updatedAt));
      subscribers.add(s);
      opened.add(s.start());
    }
    for (Future<Void> f : opened) {
      Await.of(f, 30);
    }
    // Let the snapshots' re-reads and the SSE streams settle before the first update.
    long settleUntil = System.currentTimeMillis() + spec.applyDelayMs() + 500;
    while (System.currentTimeMillis() < settleUntil || subscribers.stream().anyMatch(s -> !s.connected())) {
      Thread.sleep(20);
      if (System.currentTimeMillis() > settleUntil + 10_000) {
        break;
      }
    }
    NodeMeters.Reading before = meters.read();
    long writeStart = System.currentTimeMillis();
    List<Future<Long>> done = new ArrayList<>();
    for (int i = 0; i < traces.size(); i++) {
      long offset = spec.intervalMs() * i / Math.max(1, traces.size());
      done.add(writer.pacedWrites(vertx, traces.get(i), writeStart + offset, spec.intervalMs(), spec.writesPerRun(), progress));
    }
    long lastReturn = 0;
    for (Future<Long> f : done) {
      lastReturn = Math.max(lastReturn, Await.of(f, 600));
    }
    long tailUntil = lastReturn + spec.applyDelayMs() + spec.tailMs();
    Thread.sleep(Math.max(0, tailUntil - System.currentTimeMillis()));
    NodeMeters.Reading used = meters.read().minus(before);
    subscribers.forEach(FeedSubscriber::close);

    FreshnessClassifier classifier = new FreshnessClassifier(spec.applyDelayMs(), BenchMain.STALE_TOLERANCE_MS, BenchMain.STRAND_GRACE_MS);
    Tally tally = new Tally();
    long writes = 0;
    for (RunTrace trace : traces) {
      List<RunTrace.Write> ws = trace.writes().stream().filter(w -> w.seq() >= 1).toList();
      writes += ws.size();
      for (List<RunTrace.Delivery> ds : trace.subscribers()) {
        tally.add(classifier.classify(ws, ds, writeStart));
      }
    }
    double primaryFeedStatements = Math.max(0, used.primaryLeases() - PRIMARY_STATEMENTS_PER_UPDATE * (double) writes);
    return new SweepPoint(spec.mode(), spec.applyDelayMs(), spec.intervalMs(), traces.size(), lp, sse, writes, tally,
        used.replicaLeases(), primaryFeedStatements, used.hydrates(), System.currentTimeMillis() - startedAt,
        used.staleRecovered(), used.staleGaveUp(), used.lagEstimateMs());
  }
}
