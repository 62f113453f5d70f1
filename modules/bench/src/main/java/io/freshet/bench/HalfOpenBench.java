package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Half-open sockets under SSE load (issue 20's load check): one node in its own process with a
 * short {@code http.requestHeaderTimeoutMs}, {@code halfOpenSubscribers} SSE subscribers receiving
 * writes, measured twice in the same run:
 *
 * <ol>
 *   <li><b>Baseline</b>: the SSE load alone.
 *   <li><b>Half-open</b>: the same load while {@link HalfOpenClient} keeps {@code halfOpenSockets}
 *       TCP connections open at once that sent part of a request line or headers and then nothing
 *       (each one the node closes is replaced at once, as an attacker holding slots would).
 * </ol>
 *
 * Per phase: how many half-open sockets the node closed and how long each took from connect to
 * close (the first wave, and all), how many it answered instead or never closed, the node's own
 * count of header-timeout closes, whether {@code /health/ready} and {@code /health/live} kept
 * answering 200, the subscribers' commit-to-client p50/p95/p99 and how many ended with the final
 * value, and the CPU seconds of the node, of the SSE clients, of the attacker and of the writer.
 * Figures are printed; nothing is asserted about timing.
 */
final class HalfOpenBench {

  /** A close counts as within the timeout up to this much after it: the close is seen by the client, on a shared 2-core machine. */
  static final long CLOSE_SLACK_MS = 250;

  /** What the attacker saw: {@code null} in the baseline. */
  record HalfOpen(int atOnce, long opened, long connected, long connectFailed, long closedByNode, long answered, long stillOpen,
      Histogram closeMs, Histogram firstWaveCloseMs, long firstWaveOpenMs, double cpuSeconds) {}

  /** The probes polled every 500 ms through the phase. */
  record Health(long probes, long failed, long slowestMs) {}

  /** One phase's figures. */
  record Phase(String name, int subscribers, long held, long heldFailed, long writes, long rows, Histogram latency, long receivedFinal,
      double nodeCpu, double sseClientCpu, double writerCpu, double headerTimeoutCloses, HalfOpen halfOpen, Health health, long timeoutMs) {}

  private final Vertx vertx;
  private final Path repo;
  private final Rig rig;
  private final BenchSettings settings;
  private final Path work;
  private final Consumer<String> progress;

  HalfOpenBench(Vertx vertx, Path repo, Rig rig, BenchSettings settings, Path out, Consumer<String> progress) throws Exception {
    this.vertx = vertx;
    this.repo = repo;
    this.rig = rig;
    this.settings = settings;
    this.work = Files.createDirectories(out.resolve("half-open"));
    this.progress = progress;
  }

  List<Phase> run() throws Exception {
    rig.setApplyDelay(settings.scaleDelayMs());
    Map<String, String> config = new HashMap<>();
    config.put("db.primary.uri", rig.primaryUri());
    config.put("db.replica.uri", rig.replicaUri());
    config.put("http.requestHeaderTimeoutMs", Long.toString(settings.halfOpenHeaderTimeoutMs()));
    config.put("realtime.sseMaxDurationMs", "600000"); // no reconnect churn inside a phase
    config.put("realtime.maxConnectionsPerEnv", "1000000");
    config.put("db.primary.poolSize", "16");
    List<Phase> phases = new ArrayList<>();
    try (NodeProcess node = NodeProcess.start(repo, "half-open-node", 3131, config, work)) {
      WriteClient writer = FanOutBench.writer(vertx, node.port, node.apiKey());
      List<String> runs = FanOutBench.trigger(writer, Math.max(1, settings.halfOpenSubscribers() / 10));
      Thread.sleep(settings.scaleDelayMs() + 500);
      phases.add(phase(node, writer, runs, "baseline: SSE load alone", false));
      phases.add(phase(node, writer, runs, String.format(Locale.ROOT, "with %,d half-open sockets", settings.halfOpenSockets()), true));
    }
    return phases;
  }

  private Phase phase(NodeProcess node, WriteClient writer, List<String> runs, String name, boolean attack) throws Exception {
    int subscribers = settings.halfOpenSubscribers();
    progress.accept(String.format(Locale.ROOT, "half-open, %s: ramping %,d SSE subscribers over %,d runs", name, subscribers, runs.size()));
    try (LoadClients clients = LoadClients.start("127.0.0.1", node.port, node.apiKey(), runs, subscribers, 1, List.of("127.0.0.1"), work);
        Attacker attacker = attack ? Attacker.start(node.port, settings.halfOpenSockets(), settings.halfOpenHeaderTimeoutMs(), work) : null) {
      long[] held = clients.held();
      PromMetrics before = node.metrics();
      double nodeCpu = node.cpuSeconds();
      double clientCpu = clients.cpuSeconds();
      double writerCpu = ProcessCpu.self();
      HealthProbe health = HealthProbe.start(node.port);
      if (attacker != null) {
        long openedIn = attacker.go();
        progress.accept(String.format(Locale.ROOT, "half-open, %s: %,d sockets connected in %d ms; writing", name, settings.halfOpenSockets(), openedIn));
      }
      clients.go();
      List<RunTrace> traces = runs.stream().map(RunTrace::new).toList();
      long interval = Math.max(1, Math.round(runs.size() * 1000.0 / settings.halfOpenChangesPerSecond()));
      int count = (int) Math.max(1, settings.halfOpenLoadMs() / interval);
      long start = System.currentTimeMillis() + 100;
      List<Future<Long>> done = new ArrayList<>();
      for (int i = 0; i < traces.size(); i++) {
        done.add(writer.pacedWrites(vertx, traces.get(i), start + interval * i / traces.size(), interval, count, msg -> { }));
      }
      for (Future<Long> f : done) {
        Await.of(f, 600);
      }
      Thread.sleep(settings.scaleDelayMs() + 2000);
      LoadClients.Result result = clients.stop(traces.size());
      double nodeUsed = node.cpuSeconds() - nodeCpu;
      double writerUsed = ProcessCpu.self() - writerCpu;
      HalfOpen halfOpen = attacker == null ? null : attacker.stop();
      Health probes = health.stop();
      double headerCloses = node.metrics().minus(before).sum("freshet_http_connections_closed_total", "reason", "request-header-timeout");
      int[] finals = new int[traces.size()];
      long writes = 0;
      for (int i = 0; i < traces.size(); i++) {
        List<RunTrace.Write> ws = traces.get(i).writes();
        writes += ws.size();
        finals[i] = ws.isEmpty() ? Integer.MAX_VALUE : ws.get(ws.size() - 1).seq();
      }
      Phase phase = new Phase(name, subscribers, held[0], held[1], writes, result.rows(), result.latency(), result.receivedFinal(finals), nodeUsed,
          result.cpuSeconds() - clientCpu, writerUsed, headerCloses, halfOpen, probes, settings.halfOpenHeaderTimeoutMs());
      progress.accept(summary(phase));
      return phase;
    }
  }

  static String summary(Phase p) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "half-open, %s: %,d of %,d subscribers held; %,d changes, %,d rows, commit→client p50/p95/p99 %d/%d/%d ms, %,d of %,d received the final value;"
            + " health %d of %d probes failed (slowest %d ms); CPU node %.1f s, SSE clients %.1f s, writer %.1f s",
        p.name(), p.held(), p.subscribers(), p.writes(), p.rows(), p.latency().percentile(50), p.latency().percentile(95), p.latency().percentile(99),
        p.receivedFinal(), p.subscribers(), p.health().failed(), p.health().probes(), p.health().slowestMs(), p.nodeCpu(), p.sseClientCpu(),
        p.writerCpu()));
    HalfOpen h = p.halfOpen();
    if (h != null) {
      s.append(String.format(Locale.ROOT, "; half-open: %,d at once (first wave connected in %d ms), %,d opened in all, %,d closed by the node"
              + " (%,d within %d ms + %d ms), connect→close p50/p99/max %d/%d/%d ms (first wave %d/%d/%d ms), %,d answered, %,d never closed,"
              + " %,d connects failed, node header-timeout closes %,.0f; attacker CPU %.1f s",
          h.atOnce(), h.firstWaveOpenMs(), h.opened(), h.closedByNode(), h.closeMs().countAtMost(p.timeoutMs() + CLOSE_SLACK_MS), p.timeoutMs(),
          CLOSE_SLACK_MS, h.closeMs().percentile(50), h.closeMs().percentile(99), h.closeMs().percentile(100), h.firstWaveCloseMs().percentile(50),
          h.firstWaveCloseMs().percentile(99), h.firstWaveCloseMs().percentile(100), h.answered(), h.stillOpen(), h.connectFailed(),
          p.headerTimeoutCloses(), h.cpuSeconds()));
    }
    return s.toString();
  }

  /** The report's section. */
  static String report(List<Phase> phases, long applyDelayMs) {
    if (phases.isEmpty()) {
      return "";
    }
    long timeout = phases.get(0).timeoutMs();
    StringBuilder md = new StringBuilder("\n## Half-open sockets under SSE load\n\n");
    md.append(String.format(Locale.ROOT, "One node in its own process, `http.requestHeaderTimeoutMs` %d ms, standby apply delay %d ms; the same SSE load"
        + " twice in one run, alone and while an attacker process keeps %,d half-open sockets open at once (part of a request line or of the"
        + " headers, then nothing; each one closed is replaced at once). A close counts as within the timeout up to %d ms after it, as the"
        + " attacker sees it. CPU seconds from the first write to the last subscriber's stop.%n%n",
        timeout, applyDelayMs, phases.stream().filter(p -> p.halfOpen() != null).mapToInt(p -> p.halfOpen().atOnce()).max().orElse(0),
        CLOSE_SLACK_MS));
    md.append("| phase | SSE subscribers held | changes (rows) | commit→client p50 / p95 / p99 | received the final value | health probes failed (slowest)"
        + " | node CPU s | SSE clients CPU s | attacker CPU s | writer CPU s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Phase p : phases) {
      md.append(String.format(Locale.ROOT, "| %s | %,d of %,d | %,d (%,d) | %d / %d / %d ms | %,d of %,d | %d of %d (%d ms) | %.1f | %.1f | %s | %.1f |\n",
          p.name(), p.held(), p.subscribers(), p.writes(), p.rows(), p.latency().percentile(50), p.latency().percentile(95),
          p.latency().percentile(99), p.receivedFinal(), p.subscribers(), p.health().failed(), p.health().probes(), p.health().slowestMs(),
          p.nodeCpu(), p.sseClientCpu(), p.halfOpen() == null ? "–" : String.format(Locale.ROOT, "%.1f", p.halfOpen().cpuSeconds()), p.writerCpu()));
    }
    md.append("\n| half-open sockets | opened (at once) | closed by the node | within the timeout | connect→close p50 / p99 / max | first wave p50 / p99 / max"
        + " | answered instead | never closed | connects failed | node's header-timeout closes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Phase p : phases) {
      HalfOpen h = p.halfOpen();
      if (h == null) {
        continue;
      }
      md.append(String.format(Locale.ROOT, "| %s | %,d (%,d) | %,d | %,d | %d / %d / %d ms | %d / %d / %d ms | %,d | %,d | %,d | %,.0f |\n",
          p.name(), h.opened(), h.atOnce(), h.closedByNode(), h.closeMs().countAtMost(p.timeoutMs() + CLOSE_SLACK_MS), h.closeMs().percentile(50),
          h.closeMs().percentile(99), h.closeMs().percentile(100), h.firstWaveCloseMs().percentile(50), h.firstWaveCloseMs().percentile(99),
          h.firstWaveCloseMs().percentile(100), h.answered(), h.stillOpen(), h.connectFailed(), p.headerTimeoutCloses()));
    }
    return md.toString();
  }

  /** The attacker process ({@link HalfOpenClient}). */
  private static final class Attacker implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final int sockets;

    private Attacker(Process process, int sockets) {
      this.process = process;
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      this.sockets = sockets;
    }

    /** Sockets spread over four loopback source addresses: one reaches one port only ~28,000 times, and replacements add up. */
    static Attacker start(int port, int sockets, long timeoutMs, Path work) throws Exception {
      Path spec = work.resolve("half-open-client.json");
      Files.writeString(spec, new JsonObject().put("host", "127.0.0.1").put("port", port).put("sockets", sockets)
          .put("localAddresses", new JsonArray().add("127.0.0.2").add("127.0.0.3").add("127.0.0.4").add("127.0.0.5"))
          .put("drainMs", 3 * timeoutMs + 5000).encode());
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process process = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), HalfOpenClient.class.getName(),
          spec.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Attacker attacker = new Attacker(process, sockets);
      attacker.read("READY");
      return attacker;
    }

    /** Opens the first wave; returns how long connecting all of it took, in ms. */
    long go() throws Exception {
      in.write("GO\n");
      in.flush();
      return Long.parseLong(read("OPENED ").split(" ")[2]);
    }

    HalfOpen stop() throws Exception {
      in.write("STOP\n");
      in.flush();
      JsonObject r = new JsonObject(read("RESULT ").substring("RESULT ".length()));
      return new HalfOpen(sockets, r.getLong("opened"), r.getLong("connected"), r.getLong("connectFailed"), r.getLong("closedByNode"),
          r.getLong("answered"), r.getLong("stillOpen"), Histogram.fromJson(r.getJsonObject("closeMs")),
          Histogram.fromJson(r.getJsonObject("firstWaveCloseMs")), r.getLong("firstWaveOpenMs", -1L), r.getDouble("cpuSeconds"));
    }

    private String read(String tag) throws Exception {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.startsWith(tag)) {
          return line;
        }
      }
      throw new IllegalStateException("the half-open client ended without printing " + tag.trim());
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }

  /** Polls {@code /health/ready} and {@code /health/live} every 500 ms on a thread of its own. */
  private static final class HealthProbe {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private long probes;
    private long failed;
    private long slowestMs;

    private HealthProbe(int port) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
      thread = new Thread(() -> {
        while (running.get()) {
          for (String path : List.of("/health/ready", "/health/live")) {
            long start = System.nanoTime();
            boolean ok;
            try {
              ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).GET().build(),
                  HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (Exception e) {
              ok = false;
            }
            synchronized (this) {
              probes++;
              failed += ok ? 0 : 1;
              slowestMs = Math.max(slowestMs, (System.nanoTime() - start) / 1_000_000);
            }
          }
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "health-probe");
      thread.setDaemon(true);
    }

    static HealthProbe start(int port) {
      HealthProbe probe = new HealthProbe(port);
      probe.thread.start();
      return probe;
    }

    Health stop() throws InterruptedException {
      running.set(false);
      thread.join(10_000);
      synchronized (this) {
        return new Health(probes, failed, slowestMs);
      }
    }
  }
}
