package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The realtime streams phases, on a node in its own process and a load generator in its own
 * ({@link StreamLoadClient}), so every figure says who used the CPU:
 *
 * <ol>
 *   <li><b>Hot stream.</b> One stream written at {@code streamChunksPerSecond} (100: a realistic
 *       token rate), read by {@code hotStreamReaders} readers (5,000 in the full run).
 *   <li><b>Many streams.</b> {@code streamCount} streams (1,000) at the same rate, one reader each.
 * </ol>
 *
 * Commit-to-reader latency is measured by the readers from each chunk's own append time (the
 * {@code <ms>} of its event id, the primary's clock at the commit, on this machine's one clock);
 * the server-side figure is the node's {@code freshet_stream_delivery_lag} over the phase (from a
 * chunk's append to its push to the node's readers, once per chunk). Heap per reader is the node's
 * heap after a full GC with the readers connected, minus before, divided by the readers.
 */
final class StreamsBench {

  /** One phase's figures. */
  record Phase(String name, int streams, int readers, long held, long failed, long written, long received, double writeSeconds,
      Histogram latency, double serverP50, double serverP99, long serverChunks, long outOfOrder, long readersEnded,
      long readersWithLastChunk, long writersRefused, double nodeCpu, double clientCpu, double measuredSeconds, double heapBytesPerReader,
      long settledFromAnnouncements, long settledByReads) {

    double receivedPerSecond() {
      return writeSeconds <= 0 ? Double.NaN : received / writeSeconds;
    }

    double writtenPerSecond() {
      return writeSeconds <= 0 ? Double.NaN : written / writeSeconds;
    }
  }

  private final Vertx vertx;
  private final Path repo;
  private final Rig rig;
  private final BenchSettings settings;
  private final Path work;
  private final Consumer<String> progress;

  StreamsBench(Vertx vertx, Path repo, Rig rig, BenchSettings settings, Path out, Consumer<String> progress) throws Exception {
    this.vertx = vertx;
    this.repo = repo;
    this.rig = rig;
    this.settings = settings;
    this.work = Files.createDirectories(out.resolve("streams"));
    this.progress = progress;
  }

  List<Phase> run() throws Exception {
    rig.setApplyDelay(settings.scaleDelayMs());
    Map<String, String> config = new HashMap<>();
    config.put("db.primary.uri", rig.primaryUri());
    config.put("db.replica.uri", rig.replicaUri());
    config.put("realtime.maxConnectionsPerEnv", "1000000");
    config.put("db.primary.poolSize", "16");
    List<Phase> phases = new ArrayList<>();
    for (String mode : Modes.FAN_OUT) {
      Map<String, String> modeConfig = new HashMap<>(config);
      modeConfig.putAll(Modes.flat(mode));
      try (NodeProcess node = NodeProcess.start(repo, "streams-node", 3121, modeConfig, work)) {
        HttpClientAgent http = vertx.httpClientBuilder().with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(node.port)
            .setKeepAlive(true)).with(new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1)).build();
        WriteClient writer = new WriteClient(http, node.apiKey());
        // The hot stream first: its heap per reader is then measured on a node without other streams' logs.
        if (settings.hotStreamReaders() > 0) {
          phases.add(phase(node, http, writer, "hot stream (" + mode + ")", 1, settings.hotStreamReaders()));
        }
        if (settings.streamCount() > 0) {
          phases.add(phase(node, http, writer, "many streams (" + mode + ")", settings.streamCount(), 1));
        }
      }
    }
    return phases;
  }

  private Phase phase(NodeProcess node, HttpClientAgent http, WriteClient writer, String name, int streams, int readersPerStream)
      throws Exception {
    List<String> runs = new ArrayList<>();
    for (int from = 0; from < streams; from += 250) {
      List<Future<String>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(streams, from + 250); i++) {
        batch.add(writer.trigger("bench-streams", new JsonObject()).compose(run -> http.request(new RequestOptions()
            .setMethod(HttpMethod.PUT).setURI("/realtime/v1/streams/" + run + "/self/tokens")
            .putHeader("Authorization", "Bearer " + node.apiKey())).compose(r -> r.send()).compose(r -> r.body()).map(run)));
      }
      for (Future<String> f : batch) {
        runs.add(Await.of(f, 120));
      }
    }
    int readers = streams * readersPerStream;
    progress.accept(String.format(Locale.ROOT, "%s: %,d streams at %d chunks/s, %,d readers", name, streams, settings.streamChunksPerSecond(),
        readers));
    long heapBefore = node.heapAfterGcBytes();
    Path specFile = work.resolve(name.replace(' ', '-') + ".json");
    Files.writeString(specFile, new JsonObject().put("host", "127.0.0.1").put("port", node.port).put("apiKey", node.apiKey())
        .put("streams", new JsonArray(new ArrayList<>(runs))).put("key", "tokens").put("readersPerStream", readersPerStream)
        .put("chunksPerSecond", settings.streamChunksPerSecond()).put("loadMs", settings.streamLoadMs()).encode());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process client = new ProcessBuilder(java, "-Xmx2g", "-cp", System.getProperty("java.class.path"), StreamLoadClient.class.getName(),
        specFile.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      Writer in = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
      String[] held = tagged(out, "HELD ").split(" ");
      long heapAfter = node.heapAfterGcBytes();
      double perReader = (heapAfter - heapBefore) / (double) Math.max(1, Long.parseLong(held[1]));
      progress.accept(String.format(Locale.ROOT, "%s: %s readers held (%s failed); node heap %,d → %,d MB = %,.0f bytes per reader; writing %d s",
          name, held[1], held[2], heapBefore >> 20, heapAfter >> 20, perReader, settings.streamLoadMs() / 1000));
      PromMetrics before = node.metrics();
      double nodeCpu = node.cpuSeconds();
      double clientCpu = ProcessCpu.seconds(client.pid());
      long goAt = System.currentTimeMillis();
      in.write("GO\n");
      in.flush();
      JsonObject r = new JsonObject(tagged(out, "RESULT ").substring("RESULT ".length()));
      double measured = (System.currentTimeMillis() - goAt) / 1000.0;
      double nodeUsed = node.cpuSeconds() - nodeCpu;
      double clientUsed = ProcessCpu.seconds(client.pid()) - clientCpu;
      client.waitFor();
      PromMetrics used = node.metrics().minus(before);
      Phase phase = new Phase(name, streams, readers, Long.parseLong(held[1]), Long.parseLong(held[2]), r.getLong("written"),
          r.getLong("chunks"), r.getLong("writeMs") / 1000.0, Histogram.fromJson(r.getJsonObject("latency")),
          used.percentile("freshet_stream_delivery_lag_milliseconds", 50), used.percentile("freshet_stream_delivery_lag_milliseconds", 99),
          Math.round(used.sum("freshet_stream_chunks_delivered_total")), r.getLong("outOfOrder"), r.getLong("readersEnded"),
          r.getLong("readersWithLastChunk"), r.getLong("writersRefused"), nodeUsed, clientUsed, measured, perReader,
          Math.round(used.sum("freshet_stream_commits_settled_total", "via", "record")),
          Math.round(used.sum("freshet_stream_commits_settled_total", "via", "read")));
      progress.accept(summary(phase));
      return phase;
    } finally {
      client.destroyForcibly();
    }
  }

  static String summary(Phase p) {
    return String.format(Locale.ROOT, "%s: %,d chunks written (%,.0f/s), %,d received by %,d readers (%,.0f/s); commit-to-reader p50/p99 %d/%d ms,"
            + " server p50/p99 %.0f/%.0f ms over %,d chunks; %,d out of order, %,d of %,d readers ended with the last chunk;"
            + " CPU node %.1f s, load generator %.1f s over %.1f s (%.1f s of writing, then the readers' drain); %,.0f bytes of node heap per reader",
        p.name(), p.written(), p.writtenPerSecond(), p.received(), p.held(), p.receivedPerSecond(), p.latency().percentile(50),
        p.latency().percentile(99), p.serverP50(), p.serverP99(), p.serverChunks(), p.outOfOrder(), p.readersWithLastChunk(), p.readers(),
        p.nodeCpu(), p.clientCpu(), p.measuredSeconds(), p.writeSeconds(), p.heapBytesPerReader());
  }

  /** The report's section. */
  static String report(List<Phase> phases, long applyDelayMs) {
    if (phases.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder("\n## Realtime streams\n\nStandby apply delay " + applyDelayMs + " ms (target: p99 ≤ "
        + (applyDelayMs + 100) + " ms, and ≥ 100,000 chunks/s delivered on one node). Node and load generator in their own processes;"
        + " CPU seconds are each one's from the start of writing to the last reader's end (the measured window; 2 cores give at most"
        + " 2 CPU seconds a second to share between the node, PostgreSQL and the load generator).\n\n"
        + "| Phase | Streams | Readers | Written/s | Delivered to readers/s | Reader p50 / p99 ms | Server p50 / p99 ms | Out of order"
        + " | Readers with the last chunk | Node CPU s | Load gen CPU s | Writing s | Measured s | Node heap per reader"
        + " | Commits pushed from their announcement / read |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Phase p : phases) {
      out.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %,.0f | %,.0f | %d / %d | %.0f / %.0f | %,d | %,d of %,d | %.1f | %.1f | %.1f | %.1f | %,.0f B | %,d / %,d |\n",
          p.name(), p.streams(), p.held(), p.writtenPerSecond(), p.receivedPerSecond(), p.latency().percentile(50), p.latency().percentile(99),
          p.serverP50(), p.serverP99(), p.outOfOrder(), p.readersWithLastChunk(), p.readers(), p.nodeCpu(), p.clientCpu(), p.writeSeconds(),
          p.measuredSeconds(), p.heapBytesPerReader(), p.settledFromAnnouncements(), p.settledByReads()));
    }
    return out.toString();
  }

  private static String tagged(BufferedReader out, String tag) throws Exception {
    for (String line; (line = out.readLine()) != null; ) {
      if (line.startsWith(tag)) {
        return line;
      }
    }
    throw new IllegalStateException("the stream load generator ended without printing " + tag.trim());
  }
}
