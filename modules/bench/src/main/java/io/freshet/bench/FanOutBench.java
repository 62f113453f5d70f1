package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The fan-out phases, on nodes in their own processes ({@link NodeProcess}) and load clients in
 * theirs ({@link LoadClients}), so that every figure can say who used the CPU:
 *
 * <ol>
 *   <li><b>Hot run.</b> Many SSE subscribers on one run, a few changes a second (Supabase publishes
 *       its Postgres Changes latency for this shape of load).
 *   <li><b>Many runs.</b> One SSE subscriber per run, each run changing now and then, a thousand
 *       changes a second in all.
 *   <li><b>Held connections.</b> As many SSE subscribers as one node holds here, its heap after a
 *       full GC before and after; then three clustered nodes behind nginx.
 * </ol>
 *
 * Commit-to-client latency is measured by the clients from each row's own {@code updatedAt} (the
 * commit's watermark, on this machine's one clock); the server-side figure is the node's
 * {@code freshet_delivery_lag} over the same phase (bucket counts differenced).
 */
final class FanOutBench {

  /** One phase's figures. */
  record Phase(String name, int subscribers, long held, long failed, long rows, double seconds, long writes, long offeredPerSecond,
      Histogram latency, double serverP50, double serverP99, long receivedFinal, double nodeCpu, double clientCpu,
      double heapBytesPerSubscriber, long heapBeforeBytes, long heapAfterBytes, int nodes, long settledFromRecords, long settledByReads) {

    double rowsPerSecond() {
      return seconds <= 0 ? Double.NaN : rows / seconds;
    }

    double changesDeliveredPerSecond(long changesDelivered) {
      return seconds <= 0 ? Double.NaN : changesDelivered / seconds;
    }
  }

  private final Vertx vertx;
  private final Path repo;
  private final Rig rig;
  private final BenchSettings settings;
  private final Path work;
  private final Consumer<String> progress;

  FanOutBench(Vertx vertx, Path repo, Rig rig, BenchSettings settings, Path out, Consumer<String> progress) throws Exception {
    this.vertx = vertx;
    this.repo = repo;
    this.rig = rig;
    this.settings = settings;
    this.work = Files.createDirectories(out.resolve("fan-out"));
    this.progress = progress;
  }

  List<Phase> run() throws Exception {
    List<Phase> phases = new ArrayList<>();
    rig.setApplyDelay(settings.scaleDelayMs());
    if (settings.hotSubscribers() > 0) {
      phases.add(nchanHotRun());
    }
    for (String mode : Modes.FAN_OUT) {
      boolean last = mode.equals(Modes.FAN_OUT.get(Modes.FAN_OUT.size() - 1));
      Map<String, String> config = nodeConfig(null, 0);
      config.putAll(Modes.flat(mode));
      try (NodeProcess node = NodeProcess.start(repo, "fanout-node", 3101, config, work)) {
        if (settings.hotSubscribers() > 0) {
          phases.add(hotRun(node, mode));
        }
        if (settings.manySubscribers() > 0) {
          phases.add(manyRuns(node, mode));
        }
        if (last && settings.heldTarget() > 0) {
          phases.add(held(List.of(node), node.port, "held connections, one node", settings.heldTarget(), List.of("127.0.0.1")));
        }
      }
    }
    if (settings.clusterHeldTarget() > 0) {
      phases.add(cluster());
    }
    return phases;
  }

  private Map<String, String> nodeConfig(String clusterName, int index) {
    Map<String, String> c = new HashMap<>();
    c.put("db.primary.uri", rig.primaryUri());
    c.put("db.replica.uri", rig.replicaUri());
    c.put("realtime.sseMaxDurationMs", "600000"); // no reconnect churn while connections are counted
    c.put("realtime.maxConnectionsPerEnv", "1000000");
    c.put("db.primary.poolSize", "16");
    if (clusterName != null) {
      c.put("cluster.enabled", "true");
      c.put("cluster.name", clusterName);
      c.put("cluster.port", Integer.toString(5801 + index));
      c.put("cluster.members", "127.0.0.1:5801,127.0.0.1:5802,127.0.0.1:5803");
    }
    return c;
  }

  static WriteClient writer(Vertx vertx, int port, String apiKey) {
    HttpClientAgent http = vertx.httpClientBuilder().with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(true).setTcpNoDelay(true)).with(new PoolOptions().setHttp1MaxSize(256).setMaxWaitQueueSize(-1)).build();
    return new WriteClient(http, apiKey);
  }

  static List<String> trigger(WriteClient writer, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int from = 0; from < n; from += 250) {
      List<Future<String>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + 250); i++) {
        batch.add(writer.trigger("bench-fanout", new JsonObject().put("seq", 0)));
      }
      for (Future<String> f : batch) {
        ids.add(Await.of(f, 120));
      }
    }
    return ids;
  }

  /** 10,000 subscribers (by default) on one run, 5 changes a second for 20 s. */
  /**
   * The physical reference: the same subscribers, load client, message size and pacing on nginx
   * with nchan, which only forwards each published message to every subscriber of its channel.
   */
  private Phase nchanHotRun() throws Exception {
    int port = 3190;
    Nginx.startNchan(repo, "nchan", port, 2);
    try {
      int subscribers = settings.hotSubscribers();
      progress.accept(String.format(Locale.ROOT, "hot run, nchan reference: ramping %,d SSE subscribers on one channel (%d client processes)",
          subscribers, processes(subscribers)));
      HttpClientAgent http = vertx.httpClientBuilder().with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
          .setKeepAlive(true).setTcpNoDelay(true)).with(new PoolOptions().setHttp1MaxSize(16).setMaxWaitQueueSize(-1)).build();
      NchanPublisher publisher = new NchanPublisher(http);
      String channel = "hot" + System.currentTimeMillis();
      try (LoadClients clients = LoadClients.startNchan(port, List.of(channel), subscribers, processes(subscribers), work)) {
        long[] held = clients.held();
        RunTrace trace = new RunTrace(channel);
        long interval = 1000 / settings.hotChangesPerSecond();
        int count = (int) (settings.hotLoadMs() / interval);
        List<Long> pids = Nginx.pids(repo, "nchan");
        return measure("hot run (nchan, reference)", List.of(), () -> pids.stream().mapToDouble(ProcessCpu::seconds).sum(), clients, held,
            subscribers, List.of(trace), () -> List.of(publisher.pacedWrites(vertx, trace, System.currentTimeMillis() + 50, interval, count,
                progress)), settings.hotChangesPerSecond());
      } finally {
        http.close();
      }
    } finally {
      Nginx.stop(repo, "nchan");
    }
  }

  private Phase hotRun(NodeProcess node, String mode) throws Exception {
    WriteClient writer = writer(vertx, node.port, node.apiKey());
    List<String> run = trigger(writer, 1);
    Thread.sleep(settings.scaleDelayMs() + 500);
    int subscribers = settings.hotSubscribers();
    progress.accept(String.format(Locale.ROOT, "hot run: ramping %,d SSE subscribers on one run (%d client processes)", subscribers,
        processes(subscribers)));
    try (LoadClients clients = LoadClients.start("127.0.0.1", node.port, node.apiKey(), run, subscribers, processes(subscribers),
        List.of("127.0.0.1"), work)) {
      long[] held = clients.held();
      RunTrace trace = new RunTrace(run.get(0));
      long interval = 1000 / settings.hotChangesPerSecond();
      int count = (int) (settings.hotLoadMs() / interval);
      return measure("hot run (" + mode + ")", List.of(node), clients, held, subscribers, List.of(trace), () -> List.of(
          writer.pacedWrites(vertx, trace, System.currentTimeMillis() + 50, interval, count, progress)), settings.hotChangesPerSecond());
    }
  }

  /** One subscriber per run (10,000 by default), 1,000 changes a second offered. */
  private Phase manyRuns(NodeProcess node, String mode) throws Exception {
    WriteClient writer = writer(vertx, node.port, node.apiKey());
    int n = settings.manySubscribers();
    List<String> runs = trigger(writer, n);
    Thread.sleep(settings.scaleDelayMs() + 500);
    progress.accept(String.format(Locale.ROOT, "many runs: ramping %,d SSE subscribers, one per run", n));
    try (LoadClients clients = LoadClients.start("127.0.0.1", node.port, node.apiKey(), runs, n, processes(n), List.of("127.0.0.1"), work)) {
      long[] held = clients.held();
      List<RunTrace> traces = runs.stream().map(RunTrace::new).toList();
      long interval = Math.max(1, Math.round(n * 1000.0 / settings.manyChangesPerSecond()));
      int count = (int) Math.max(1, settings.manyLoadMs() / interval);
      return measure("many runs (" + mode + ")", List.of(node), clients, held, n, traces, () -> {
        long start = System.currentTimeMillis() + 100;
        List<Future<Long>> done = new ArrayList<>();
        for (int i = 0; i < traces.size(); i++) {
          done.add(writer.pacedWrites(vertx, traces.get(i), start + interval * i / traces.size(), interval, count, msg -> { }));
        }
        return done;
      }, settings.manyChangesPerSecond());
    }
  }

  private interface Writes {
    List<Future<Long>> start() throws Exception;
  }

  private Phase measure(String name, List<NodeProcess> nodes, LoadClients clients, long[] held, int subscribers, List<RunTrace> traces,
      Writes writes, long offeredPerSecond) throws Exception {
    return measure(name, nodes, () -> nodes.stream().mapToDouble(NodeProcess::cpuSeconds).sum(), clients, held, subscribers, traces, writes,
        offeredPerSecond);
  }

  /** {@code serverCpu}: the CPU seconds so far of whatever serves the subscribers (the nodes, or nchan's nginx). */
  private Phase measure(String name, List<NodeProcess> nodes, java.util.function.DoubleSupplier serverCpu, LoadClients clients, long[] held,
      int subscribers, List<RunTrace> traces, Writes writes, long offeredPerSecond) throws Exception {
    progress.accept(String.format(Locale.ROOT, "%s: %,d held (%,d failed); writing", name, held[0], held[1]));
    PromMetrics before = metrics(nodes);
    double nodeCpu = serverCpu.getAsDouble();
    double clientCpu = clients.cpuSeconds();
    clients.go();
    long start = System.currentTimeMillis();
    long last = start;
    for (Future<Long> f : writes.start()) {
      last = Math.max(last, Await.of(f, 600));
    }
    Thread.sleep(settings.scaleDelayMs() + 2000);
    LoadClients.Result result = clients.stop(traces.size());
    PromMetrics used = metrics(nodes).minus(before);
    double nodeUsed = serverCpu.getAsDouble() - nodeCpu;
    double clientUsed = result.cpuSeconds() - clientCpu;
    int[] finals = new int[traces.size()];
    long writesDone = 0;
    for (int i = 0; i < traces.size(); i++) {
      List<RunTrace.Write> ws = traces.get(i).writes();
      writesDone += ws.size();
      finals[i] = ws.isEmpty() ? Integer.MAX_VALUE : ws.get(ws.size() - 1).seq();
    }
    double seconds = (last - start) / 1000.0;
    Phase phase = new Phase(name, subscribers, held[0], held[1], result.rows(), seconds, writesDone, offeredPerSecond, result.latency(),
        used.percentile("freshet_delivery_lag_milliseconds", 50), used.percentile("freshet_delivery_lag_milliseconds", 99),
        result.receivedFinal(finals), nodeUsed, clientUsed, Double.NaN, -1, -1, nodes.size(),
        Math.round(used.sum("freshet_changes_settled_total", "via", "record")), Math.round(used.sum("freshet_changes_settled_total", "via", "read")));
    progress.accept(String.format(Locale.ROOT, "%s: %,d rows in %.1f s (%,.0f/s), p50/p95/p99 %d/%d/%d ms, server p50/p99 %.0f/%.0f ms, "
            + "%,d of %,d received the final value; CPU node %.1f s, clients %.1f s", name, phase.rows(), seconds, phase.rowsPerSecond(),
        result.latency().percentile(50), result.latency().percentile(95), result.latency().percentile(99), phase.serverP50(),
        phase.serverP99(), phase.receivedFinal(), subscribers, nodeUsed, clientUsed));
    return phase;
  }

  private static PromMetrics metrics(List<NodeProcess> nodes) throws Exception {
    List<PromMetrics> all = new ArrayList<>();
    for (NodeProcess node : nodes) {
      all.add(node.metrics());
    }
    return PromMetrics.sum(all);
  }

  /** How many SSE subscribers the nodes hold, and what each costs in node heap after a full GC. */
  private Phase held(List<NodeProcess> nodes, int port, String name, int target, List<String> locals) throws Exception {
    WriteClient writer = writer(vertx, nodes.get(0).port, nodes.get(0).apiKey());
    List<String> runs = trigger(writer, Math.min(1000, target));
    Thread.sleep(settings.scaleDelayMs() + 500);
    long heapBefore = 0;
    for (NodeProcess node : nodes) {
      heapBefore += node.heapAfterGcBytes();
    }
    double nodeCpu = nodes.stream().mapToDouble(NodeProcess::cpuSeconds).sum();
    int processes = Math.max(processes(target), locals.size());
    progress.accept(String.format(Locale.ROOT, "%s: ramping to %,d SSE subscribers over %,d runs (%d client processes, %d source addresses)",
        name, target, runs.size(), processes, locals.size()));
    long started = System.currentTimeMillis();
    try (LoadClients clients = LoadClients.start("127.0.0.1", port, nodes.get(0).apiKey(), runs, target, processes, locals, work)) {
      long[] held = clients.held();
      long heapAfter = 0;
      for (NodeProcess node : nodes) {
        heapAfter += node.heapAfterGcBytes();
      }
      double perSubscriber = held[0] == 0 ? Double.NaN : (heapAfter - heapBefore) / (double) held[0];
      double nodeUsed = nodes.stream().mapToDouble(NodeProcess::cpuSeconds).sum() - nodeCpu;
      double clientUsed = clients.cpuSeconds();
      progress.accept(String.format(Locale.ROOT, "%s: %,d of %,d held (%,d failed) in %.0f s; node heap %,d → %,d MB = %,.0f bytes per subscriber",
          name, held[0], target, held[1], (System.currentTimeMillis() - started) / 1000.0, heapBefore >> 20, heapAfter >> 20, perSubscriber));
      clients.go();
      clients.stop(runs.size());
      return new Phase(name, target, held[0], held[1], 0, 0, 0, 0, new Histogram(), Double.NaN, Double.NaN, 0, nodeUsed, clientUsed,
          perSubscriber, heapBefore, heapAfter, nodes.size(), 0, 0);
    }
  }

  /** Three clustered node processes behind nginx, with as many subscribers as the three should hold. */
  private Phase cluster() throws Exception {
    String clusterName = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    List<NodeProcess> nodes = new ArrayList<>();
    int lbPort = 3200;
    try {
      for (int i = 0; i < 3; i++) {
        nodes.add(NodeProcess.start(repo, "cluster-node-" + (i + 1), 3111 + i, nodeConfig(clusterName, i), work));
      }
      String upstreams = String.join(",", nodes.stream().map(n -> "127.0.0.1:" + n.port).toList());
      // Each nginx worker holds two sockets per proxied connection, within the process file limit.
      // reuseport spreads connections by a hash of their addresses, not evenly: at 6 workers for
      // 57,000 connections some workers ran out ("worker_connections are not enough") and 558
      // subscribers failed, so plan for each worker to fill to about 70% only.
      int workers = Math.max(2, (int) Math.ceil(settings.clusterHeldTarget() * 2.0 / 14_000));
      Nginx.start(repo, "bench", lbPort, upstreams, workers);
      // One source address per 19,000 connections: one address reaches one port only ~28,000 times.
      List<String> locals = new ArrayList<>();
      for (int i = 0; i < Math.max(1, (int) Math.ceil(settings.clusterHeldTarget() / 19_000.0)); i++) {
        locals.add("127.0.0." + (2 + i));
      }
      return held(nodes, lbPort, "held connections, 3 nodes behind nginx", settings.clusterHeldTarget(), locals);
    } finally {
      Nginx.stop(repo, "bench");
      for (NodeProcess node : nodes) {
        node.close();
      }
    }
  }

  /** Load client processes for {@code subscribers}: at most 9,500 each (a process may open 20,000 files). */
  private static int processes(int subscribers) {
    return Math.max(1, (int) Math.ceil(subscribers / 9_500.0));
  }
}
