package io.freshet.bench;

import io.freshet.core.FreshetConfig;
import io.freshet.server.FreshetNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark: every mode over the same workload at every point of the sweep, then the scale
 * phase for {@code gated}, in one process, one node per mode and apply delay. It only wires; the
 * figures are defined in {@link FreshnessClassifier} and written by {@link ReportWriter}.
 *
 * <p>Usage: {@code java -jar freshet-bench.jar [--quick|--full] [--out DIR] [--modes a,b]
 * [--delays 0,150] [--intervals 20,100] [--runs N] [--scale false] [--sweep false] [--stall false]
 * [--fanOut false] [--streams false] [--halfOpen true] [--replicas false] [--<any BenchSettings component> value]}.
 * The rig's ports come from {@code FRESHET_PG_PRIMARY_PORT} / {@code FRESHET_PG_REPLICA_PORT}.
 */
public final class BenchMain {

  /** Read path allowance in the stale definition: query, serialise, deliver. */
  static final long STALE_TOLERANCE_MS = 20;
  /** A final change is stranded when it has not arrived this long after the apply delay. */
  static final long STRAND_GRACE_MS = 1000;

  /**
   * One node per mode and apply delay by default (its intervals run back to back on it, 20 ms
   * first, so a point inherits the lag estimator's memory of the previous one: a tripwire
   * observation floors the estimate for {@code lag.observedFloorTtlMs}, 60 s). {@code --node-per
   * point} gives every point a fresh node instead, which trades that carry-over for an estimator
   * cold start in every point.
   */
  private static boolean nodePerPoint = false;

  public static void main(String[] args) throws Exception {
    BenchSettings settings = BenchSettings.quick();
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--quick")) {
        settings = BenchSettings.quick();
      } else if (a.equals("--full")) {
        settings = BenchSettings.full();
      } else if (a.equals("--out")) {
        out = Path.of(args[++i]);
      } else if (a.equals("--node-per")) {
        nodePerPoint = "point".equals(args[++i]);
      } else if (a.startsWith("--")) {
        settings = settings.with(a.substring(2), args[++i]);
      } else {
        throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    Path repo = Path.of(System.getProperty("freshet.repo", ".")).toAbsolutePath().normalize();
    if (out == null) {
      out = repo.resolve("results").resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
    Files.createDirectories(out);
    Rig rig = new Rig(repo, Integer.parseInt(env("FRESHET_PG_PRIMARY_PORT", "17432")), Integer.parseInt(env("FRESHET_PG_REPLICA_PORT", "17433")));
    int status;
    try {
      status = new BenchMain(settings, rig, out, repo).run();
    } catch (Exception | Error e) {
      // The node, Vert.x and the load clients keep non-daemon threads: without an exit a failed run hangs.
      e.printStackTrace();
      status = 1;
    }
    System.exit(status);
  }

  private final BenchSettings settings;
  private final Rig rig;
  private final Path out;
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final long startedAt = System.currentTimeMillis();

  private final Path repo;

  private BenchMain(BenchSettings settings, Rig rig, Path out, Path repo) {
    this.settings = settings;
    this.rig = rig;
    this.out = out;
    this.repo = repo;
  }

  private int run() throws Exception {
    int total = settings.modes().size() * settings.delaysMs().size() * settings.intervalsMs().size();
    say(String.format(Locale.ROOT, "freshet bench (%s, a fresh node per %s): %d modes × %d apply delays × %d write intervals = %d points, %d runs each; "
            + "rig primary :%d, standby :%d; results in %s",
        settings.name(), nodePerPoint ? "point" : "mode and apply delay", settings.modes().size(), settings.delaysMs().size(), settings.intervalsMs().size(), total,
        settings.runs(), rig.primaryPort, rig.replicaPort, out));
    List<SweepPoint> points = new ArrayList<>();
    if (total > 0) {
      warmUp();
    }
    int n = 0;
    for (long delay : settings.delaysMs()) {
      rig.setApplyDelay(delay);
      say("standby apply delay set to " + delay + " ms");
      for (String mode : settings.modes()) {
        if (nodePerPoint) {
          for (long interval : settings.intervalsMs()) {
            n = points(mode, delay, List.of(interval), points, n, total);
          }
        } else {
          n = points(mode, delay, settings.intervalsMs(), points, n, total);
        }
      }
    }
    List<StallBench.Result> stall = List.of();
    if (settings.stall() && !settings.stallModes().isEmpty()) {
      say("stall phase: standby apply delay " + settings.stallDelayMs() + " ms, replay paused " + settings.stallPauseMs() + " ms");
      stall = new StallBench(vertx, rig, settings, this::startNode, BenchMain::say).run();
    }
    List<ReplicasBench.Result> replicas = List.of();
    if (settings.replicas()) {
      replicas = new ReplicasBench(vertx, repo, settings, this::startNode, BenchMain::say).run();
    }
    ScaleResult scale = null;
    if (settings.scale()) {
      rig.setApplyDelay(settings.scaleDelayMs());
      say("scale phase (gated), standby apply delay " + settings.scaleDelayMs() + " ms");
      FreshetNode node = startNode("gated");
      try (NodeClients clients = new NodeClients(vertx, node)) {
        scale = new ScaleBench(vertx, node, clients, settings, BenchMain::say).run();
      } finally {
        Await.of(node.stop(), 60);
      }
    }
    List<FanOutBench.Phase> fanOut = List.of();
    if (settings.fanOut()) {
      say("fan-out phases (gated; nodes and load clients in their own processes)");
      fanOut = new FanOutBench(vertx, repo, rig, settings, out, BenchMain::say).run();
    }
    List<StreamsBench.Phase> streams = List.of();
    if (settings.streams()) {
      say("realtime streams phases (gated; node and load generator in their own processes)");
      streams = new StreamsBench(vertx, repo, rig, settings, out, BenchMain::say).run();
    }
    List<HalfOpenBench.Phase> halfOpen = List.of();
    if (settings.halfOpen()) {
      say(String.format(Locale.ROOT, "half-open sockets under SSE load (%,d sockets, %,d subscribers, http.requestHeaderTimeoutMs %d ms)",
          settings.halfOpenSockets(), settings.halfOpenSubscribers(), settings.halfOpenHeaderTimeoutMs()));
      halfOpen = new HalfOpenBench(vertx, repo, rig, settings, out, BenchMain::say).run();
    }
    long elapsed = System.currentTimeMillis() - startedAt;
    String header = String.format(Locale.ROOT, "# Freshet benchmark (%s), %s\n\n"
            + "Machine: %d cores, Java %s, max heap %d MB. The load generator, the node and PostgreSQL share these cores. "
            + "Run time %.1f min. Apply delay set with `scripts/db.sh set-delay` on the bench's own primary :%d and standby :%d.",
        settings.name(), LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20, elapsed / 60000.0, rig.primaryPort, rig.replicaPort);
    String report = ReportWriter.report(header, points, stall, settings, scale, fanOut, Notes.TEXT)
        + ReplicasBench.report(replicas, settings.replicaDelaysMs())
        + StreamsBench.report(streams, settings.scaleDelayMs()) + HalfOpenBench.report(halfOpen, settings.scaleDelayMs());
    Files.writeString(out.resolve("report.md"), report, StandardCharsets.UTF_8);
    List<SvgPlot.Panel> panels = new ArrayList<>(SvgPlot.sweepPanels(points));
    if (!stall.isEmpty()) {
      panels.add(SvgPlot.stallPanel(stall, settings.stallDelayMs()));
    }
    if (fanOut.stream().anyMatch(p -> p.latency().count() > 0)) {
      panels.add(SvgPlot.fanOutPanel(fanOut, settings.scaleDelayMs()));
    }
    if (!panels.isEmpty()) {
      Files.writeString(out.resolve("latency.svg"), SvgPlot.render("Freshet: commit-to-client latency per mode, every write counted",
          panels), StandardCharsets.UTF_8);
    }
    Files.writeString(out.resolve("points.csv"), Csv.points(points), StandardCharsets.UTF_8);
    System.out.println();
    System.out.println(report);
    say("results: " + out.resolve("report.md") + (panels.isEmpty() ? "" : ", " + out.resolve("latency.svg")) + ", " + out.resolve("points.csv"));
    Await.of(vertx.close(), 30);
    return 0;
  }

  /** Runs the given intervals on one fresh node; returns the number of points done so far. */
  private int points(String mode, long delay, List<Long> intervals, List<SweepPoint> points, int n, int total) throws Exception {
    FreshetNode node = startNode(mode);
    try (NodeClients clients = new NodeClients(vertx, node)) {
      Workload workload = new Workload(vertx, clients.feeds, clients.writer, clients.apiKey, new NodeMeters(node.registry()), BenchMain::say);
      for (long interval : intervals) {
        n++;
        SweepPoint p = workload.run(new Workload.Spec(mode, delay, interval, settings.runs(), settings.writesPerRun(interval), settings.tailMs()));
        points.add(p);
        say(String.format(Locale.ROOT, "[%d/%d] %-13s delay=%4d interval=%4d: rows=%d stale=%s behind=%s stranded=%d/%d p50=%s p99=%s ms; "
                + "tripwire %.0f recovered %.0f gave up, lag estimate %.0f ms (%.1f s)",
            n, total, mode, delay, interval, p.tally().delivered, ReportWriter.share(p.tally().stale, p.tally().delivered),
            ReportWriter.share(p.tally().behind, p.tally().delivered), p.tally().stranded, p.tally().subscribers,
            ReportWriter.ms(p.p(50)), ReportWriter.ms(p.p(99)), p.staleRecovered(), p.staleGaveUp(), p.lagEstimateMs(),
            p.durationMs() / 1000.0));
      }
    } finally {
      Await.of(node.stop(), 60);
    }
    return n;
  }

  /** A short discarded point so the first measured one does not pay for JIT and pool warm-up. */
  private void warmUp() throws Exception {
    say("warm-up (discarded)");
    rig.setApplyDelay(settings.delaysMs().get(0));
    FreshetNode node = startNode("gated");
    try (NodeClients clients = new NodeClients(vertx, node)) {
      new Workload(vertx, clients.feeds, clients.writer, clients.apiKey, new NodeMeters(node.registry()), s -> {})
          .run(new Workload.Spec("warmup", settings.delaysMs().get(0), 50, settings.runs(), 20, 300));
    } finally {
      Await.of(node.stop(), 60);
    }
  }

  private FreshetNode startNode(String mode) throws Exception {
    return startNode(mode, new JsonObject());
  }

  private FreshetNode startNode(String mode, JsonObject extra) throws Exception {
    FreshetConfig config = FreshetConfig.defaults().with(new JsonObject()
        .put("http.port", 0).put("http.host", "127.0.0.1")
        .put("db.primary.uri", rig.primaryUri()).put("db.replica.uri", rig.replicaUri())
        .mergeIn(Modes.config(mode))
        // The bench follows every run with one secret key: per-credential limits would measure themselves.
        .put("realtime.maxConnectionsPerSecretKey", 1_000_000).put("realtime.feedOpensPerSecPerSecretKey", 1_000_000)
        .mergeIn(extra));
    return Await.of(FreshetNode.start(config), 120);
  }

  /** HTTP clients to one node: feeds on their own pool (they hold connections), writes on another. */
  static final class NodeClients implements AutoCloseable {
    final HttpClientAgent feeds;
    final WriteClient writer;
    final String apiKey;

    NodeClients(Vertx vertx, FreshetNode node) {
      HttpClientOptions options = new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(node.httpPort())
          .setKeepAlive(true).setTcpNoDelay(true);
      this.feeds = vertx.httpClientBuilder().with(options).with(new PoolOptions().setHttp1MaxSize(50_000).setMaxWaitQueueSize(-1)).build();
      HttpClientAgent writes = vertx.httpClientBuilder().with(new HttpClientOptions(options))
          .with(new PoolOptions().setHttp1MaxSize(256).setMaxWaitQueueSize(-1)).build();
      this.apiKey = node.development().apiKey();
      this.writer = new WriteClient(writes, apiKey);
      this.writesClient = writes;
    }

    private final HttpClientAgent writesClient;

    @Override
    public void close() throws Exception {
      Await.of(feeds.close(), 30);
      Await.of(writesClient.close(), 30);
    }
  }

  static void say(String line) {
    System.err.println(LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + " " + line);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
