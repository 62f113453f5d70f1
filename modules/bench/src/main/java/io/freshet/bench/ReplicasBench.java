package io.freshet.bench;

import io.freshet.server.FreshetNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The replica phase: three standbys at {@code replicaDelaysMs} (20, 150 and 500 ms), on a rig of
 * their own, and the same workload gated three ways in one run: <b>per-replica</b> routing (the gate
 * waits on the fastest replica, each read goes to one that has applied its commit), gating on the
 * <b>worst reader</b> with reads spread over all of them (trigger.dev's gate behind a reader
 * endpoint: {@code gate.replicas=worst}), and <b>primary reads</b>. Records carry no row here, so
 * every change is a gated read: this phase measures the gate and the routing, not the records.
 *
 * <p>Figures per mode: commit-to-client p50/p99 (commit: the PUT returned), stale rows (older than a
 * write the <i>fastest</i> standby had applied: {@link FreshnessClassifier} with its delay), primary
 * reads per change, and reads per replica.
 */
final class ReplicasBench {

  static final List<String> MODES = List.of("per-replica", "worst-reader", "primary-reads");

  /** One mode's figures. */
  record Result(String mode, SweepPoint point, double[] replicaReads, double primaryReads, double nodeCpuS, double serverP50, double serverP99) {
    double primaryReadsPerChange() {
      return point.writes() == 0 ? Double.NaN : primaryReads / point.writes();
    }
  }

  private final Vertx vertx;
  private final Path repo;
  private final BenchSettings settings;
  private final StallBench.NodeStarter nodes;
  private final Consumer<String> progress;

  ReplicasBench(Vertx vertx, Path repo, BenchSettings settings, StallBench.NodeStarter nodes, Consumer<String> progress) {
    this.vertx = vertx;
    this.repo = repo;
    this.settings = settings;
    this.nodes = nodes;
    this.progress = progress;
  }

  List<Result> run() throws Exception {
    List<Long> delays = settings.replicaDelaysMs();
    Rig rig = Rig.own(repo, "pg-bench-replicas", 17442);
    progress.accept("replica phase: starting a primary and " + delays.size() + " standbys at " + delays + " ms on :" + rig.primaryPort);
    rig.start(delays);
    List<Result> results = new ArrayList<>();
    try {
      List<String> uris = new ArrayList<>();
      for (int n = 1; n <= delays.size(); n++) {
        uris.add(rig.replicaUri(n));
      }
      long fastest = delays.stream().mapToLong(Long::longValue).min().orElse(0);
      for (String mode : MODES) {
        JsonObject extra = new JsonObject().put("db.primary.uri", rig.primaryUri()).put("db.replica.uri", "")
            .put("db.replica.uris", String.join(",", uris)).put("router.rowImageMaxBytes", 0)
            .put("gate.replicas", mode.equals("worst-reader") ? "worst" : "fastest");
        FreshetNode node = nodes.start(mode.equals("primary-reads") ? "primary-reads" : "gated", extra);
        try (BenchMain.NodeClients clients = new BenchMain.NodeClients(vertx, node)) {
          NodeMeters meters = new NodeMeters(node.registry());
          Workload workload = new Workload(vertx, clients.feeds, clients.writer, clients.apiKey, meters, s -> {});
          // Once, discarded: the samplers measure each standby and the pools connect.
          workload.run(new Workload.Spec(mode, fastest, settings.replicaIntervalMs(), settings.runs(), 10, 500));
          double[] readsBefore = replicaReads(node, delays.size());
          NodeMeters.Reading before = meters.read();
          PromMetrics promBefore = PromMetrics.parse(node.registry().scrape());
          double cpuBefore = ProcessCpu.self();
          SweepPoint point = workload.run(new Workload.Spec(mode, fastest, settings.replicaIntervalMs(), settings.runs(),
              settings.writesPerRun(settings.replicaIntervalMs()), settings.tailMs() + delays.stream().mapToLong(Long::longValue).max().orElse(0)));
          double cpu = ProcessCpu.self() - cpuBefore;
          NodeMeters.Reading used = meters.read().minus(before);
          PromMetrics server = PromMetrics.parse(node.registry().scrape()).minus(promBefore);
          double[] reads = replicaReads(node, delays.size());
          for (int i = 0; i < reads.length; i++) {
            reads[i] -= readsBefore[i];
          }
          double primaryReads = mode.equals("primary-reads") ? used.hydrates() : used.fallbackReads();
          Result r = new Result(mode, point, reads, primaryReads, cpu, server.percentile("freshet_delivery_lag_milliseconds", 50),
              server.percentile("freshet_delivery_lag_milliseconds", 99));
          results.add(r);
          progress.accept(String.format(Locale.ROOT, "replicas %-13s rows=%d stale=%d stranded=%d p50=%d p99=%d ms (server %.0f/%.0f), primary reads/change %.2f,"
                  + " reads per standby %s, process CPU %.1f s", mode, point.tally().delivered, point.tally().stale, point.tally().stranded,
              point.p(50), point.p(99), r.serverP50(), r.serverP99(), r.primaryReadsPerChange(), perReplica(reads), cpu));
        } finally {
          Await.of(node.stop(), 60);
        }
      }
    } finally {
      rig.destroy();
    }
    return results;
  }

  /** Keys read from each replica so far ({@code freshet_replica_reads_total}, runs and streams). */
  private static double[] replicaReads(FreshetNode node, int replicas) {
    double[] reads = new double[replicas];
    for (Meter meter : node.registry().getMeters()) {
      if (meter.getId().getName().equals("freshet.replica.reads") && meter instanceof Counter c) {
        int n = Integer.parseInt(meter.getId().getTag("replica")) - 1;
        if (n >= 0 && n < replicas) {
          reads[n] += c.count();
        }
      }
    }
    return reads;
  }

  private static String perReplica(double[] reads) {
    StringBuilder s = new StringBuilder();
    for (double r : reads) {
      s.append(s.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.0f", r));
    }
    return s.toString();
  }

  static String report(List<Result> results, List<Long> delaysMs) {
    if (results.isEmpty()) {
      return "";
    }
    long fastest = delaysMs.stream().mapToLong(Long::longValue).min().orElse(0);
    StringBuilder md = new StringBuilder();
    md.append("\n## Several replicas\n\n");
    md.append(String.format(Locale.ROOT, "Three standbys at %s ms on a rig of their own; records carry no row, so every change is a gated read. "
        + "Stale: a row older than a write the fastest standby (%d ms) had applied when the row arrived (content a faster read had; "
        + "gating on the worst reader delivers it by construction). Behind: older than a write whose PUT had returned. "
        + "Commit: the PUT returned. Reads per standby: keys read through the gate from each. Server p50/p99: the node's "
        + "freshet_delivery_lag over the phase (commit to the feed logs). CPU: the bench process (node and load clients share it).%n%n", delaysMs, fastest));
    md.append("| mode | rows | stale | behind | stranded | p50 ms | p99 ms | server p50/p99 ms | p50 − fastest delay | p99 − fastest delay | primary reads/change | reads per standby "
        + delaysMs + " | p50 ÷ per-replica | CPU s |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    Result base = results.stream().filter(r -> r.mode().equals("per-replica")).findFirst().orElse(null);
    for (Result r : results) {
      SweepPoint p = r.point();
      String ratio = base == null || base.point().p(50) <= 0 ? "–" : String.format(Locale.ROOT, "%.1f×", p.p(50) / (double) base.point().p(50));
      md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d/%d | %d | %d | %.0f/%.0f | %+d | %+d | %.2f | %s | %s | %.1f |%n", r.mode(), p.tally().delivered,
          p.tally().stale, p.tally().behind, p.tally().stranded, p.tally().subscribers, p.p(50), p.p(99), r.serverP50(), r.serverP99(), p.p(50) - fastest, p.p(99) - fastest,
          r.primaryReadsPerChange(), perReplica(r.replicaReads()), ratio, r.nodeCpuS()));
    }
    md.append("\nTargets: per-replica at the fastest delay + 15 ms at p50 (+ 50 ms at p99), 0 stale, at most 1 primary read per change "
        + "no replica could serve, and a p50 at least 3 times lower than gating on the worst reader.\n");
    return md.toString();
  }
}
