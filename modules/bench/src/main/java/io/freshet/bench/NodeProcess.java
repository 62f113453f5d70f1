package io.freshet.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Freshet node in its own process ({@code java -jar freshet-server.jar run}), configured through
 * {@code FRESHET_*} environment variables as a deployment would be. The fan-out phases run their
 * nodes this way, so that a node's CPU time, heap and file descriptors are its own, and a cluster
 * is three real processes.
 */
final class NodeProcess implements AutoCloseable {

  private static final Pattern KEY = Pattern.compile("secret key (tr_[A-Za-z0-9_]+)");
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final String name;
  final int port;
  private final Process process;
  private final Path log;
  private String apiKey;
  private int metricReadings;
  private int heapLooks;

  private NodeProcess(String name, int port, Process process, Path log) {
    this.name = name;
    this.port = port;
    this.process = process;
    this.log = log;
  }

  /** Starts a node on {@code port} with the given config (flat dotted keys) and waits for /health. */
  static NodeProcess start(Path repo, String name, int port, Map<String, String> config, Path logDir) throws Exception {
    Path jar = repo.resolve("modules/server/target/freshet-server.jar");
    Path log = logDir.resolve(name + ".log");
    Path cwd = Files.createDirectories(logDir.resolve(name + "-cwd")); // no conf/freshet.json here: env only
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx2g", "-XX:+UseG1GC", "-jar", jar.toString(), "run")
        .directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("FRESHET_HTTP_PORT", Integer.toString(port));
    pb.environment().put("FRESHET_HTTP_HOST", "127.0.0.1");
    // Every subscriber of the bench uses the one secret key: per-credential limits would measure themselves.
    pb.environment().put(envName("realtime.maxConnectionsPerSecretKey"), "1000000");
    pb.environment().put(envName("realtime.feedOpensPerSecPerSecretKey"), "1000000");
    config.forEach((key, value) -> pb.environment().put(envName(key), value));
    NodeProcess node = new NodeProcess(name, port, pb.start(), log);
    node.awaitHealthy();
    return node;
  }

  static String envName(String path) {
    return "FRESHET_" + path.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
  }

  private void awaitHealthy() throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node " + name + " exited during start; see " + log);
      }
      try {
        if (get("/health").statusCode() == 200) {
          Matcher m = KEY.matcher(Files.readString(log));
          if (m.find()) {
            apiKey = m.group(1);
            return;
          }
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("node " + name + " did not answer /health within 120 s; see " + log);
  }

  String apiKey() {
    return apiKey;
  }

  long pid() {
    return process.pid();
  }

  double cpuSeconds() {
    return ProcessCpu.seconds(process.pid());
  }

  PromMetrics metrics() throws Exception {
    // Each reading is also kept beside the node's log (<name>-metrics-<n>.txt, n counting the
    // readings): a phase's figure is explained from the node's full meters around it.
    String text = get("/metrics").body();
    Files.writeString(log.resolveSibling(name + "-metrics-" + (++metricReadings) + ".txt"), text);
    return PromMetrics.parse(text);
  }

  /** The node's heap in use after a full GC, in bytes (jcmd GC.run, then GC.heap_info). */
  long heapAfterGcBytes() throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    for (int i = 0; i < 2; i++) {
      run(List.of(jcmd, Long.toString(process.pid()), "GC.run"));
      Thread.sleep(300);
    }
    String info = run(List.of(jcmd, Long.toString(process.pid()), "GC.heap_info"));
    // What the heap holds by class, beside the node's log (<name>-heap-<n>.txt, n counting the
    // looks): a change in heap per subscriber is explained by comparing two runs' files.
    String histogram = run(List.of(jcmd, Long.toString(process.pid()), "GC.class_histogram"));
    Files.writeString(log.resolveSibling(name + "-heap-" + (++heapLooks) + ".txt"),
        String.join("\n", histogram.lines().limit(60).toList()) + "\n");
    Matcher m = Pattern.compile("total \\d+K, used (\\d+)K").matcher(info);
    long used = -1;
    if (m.find()) {
      used = Long.parseLong(m.group(1)) * 1024;
    }
    return used;
  }

  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** SIGTERM (the node ends its SSE sessions and leaves the cluster), then SIGKILL after 30 s. */
  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
