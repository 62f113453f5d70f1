package io.freshet.bench;

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
import java.util.List;

/**
 * The fan-out load generator: {@link SseLoadClient} processes, each holding at most
 * {@code perProcess} subscribers (a process may open 20,000 files here), spread over loopback
 * source addresses when one address would run out of ephemeral ports (about 28,000 connections
 * to one destination). Ramped in parallel; {@link #go}, {@link #stop} and the results apply to all.
 */
final class LoadClients implements AutoCloseable {

  /** What all the processes saw together. */
  record Result(long held, long failed, long connected, long rows, Histogram latency, List<int[]> maxSeqs, double cpuSeconds) {
    /** Subscribers whose last row carried {@code finalSeq} of their run. */
    long receivedFinal(int[] finalSeqByRun) {
      return maxSeqs.stream().filter(s -> s[1] >= finalSeqByRun[s[0]]).count();
    }
  }

  private record Child(Process process, BufferedReader out, Writer in, int runOffset) {}

  private final List<Child> children = new ArrayList<>();

  /**
   * Starts {@code processes} clients sharing {@code subscribers} over {@code runs} (subscriber i
   * follows run i mod runs), and waits until every one has ramped.
   */
  static LoadClients start(String host, int port, String apiKey, List<String> runs, int subscribers, int processes,
      List<String> localAddresses, Path workDir) throws Exception {
    return start(host, port, apiKey, runs, subscribers, processes, localAddresses, workDir, false);
  }

  /**
   * The same clients subscribed to bare SSE channels of nchan ({@code /sub/<channel>}) instead of
   * Freshet's feeds: the physical reference of the hot run.
   */
  static LoadClients startNchan(int port, List<String> channels, int subscribers, int processes, Path workDir) throws Exception {
    return start("127.0.0.1", port, "", channels, subscribers, processes, List.of("127.0.0.1"), workDir, true);
  }

  private static LoadClients start(String host, int port, String apiKey, List<String> runs, int subscribers, int processes,
      List<String> localAddresses, Path workDir, boolean nchan) throws Exception {
    LoadClients clients = new LoadClients();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    int perProcess = (int) Math.ceil(subscribers / (double) processes);
    for (int p = 0; p < processes; p++) {
      int from = p * perProcess;
      int n = Math.min(perProcess, subscribers - from);
      if (n <= 0) {
        break;
      }
      // Subscribers from..from+n-1 follow runs (from + i) mod runs: rotate the list so the child's index i maps there.
      List<String> rotated = new ArrayList<>();
      for (int i = 0; i < Math.min(runs.size(), n); i++) {
        rotated.add(runs.get((from + i) % runs.size()));
      }
      JsonArray locals = new JsonArray();
      localAddresses.stream().skip(p % localAddresses.size()).limit(1).forEach(locals::add);
      JsonObject spec = new JsonObject().put("host", host).put("port", port).put("apiKey", apiKey)
          .put("runs", new JsonArray(new ArrayList<>(rotated))).put("subscribers", n).put("localAddresses", locals).put("nchan", nchan);
      Path file = workDir.resolve("load-client-" + p + ".json");
      Files.writeString(file, spec.encode());
      Process process = new ProcessBuilder(java, "-Xmx1500m", "-cp", classpath, SseLoadClient.class.getName(), file.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      clients.children.add(new Child(process, new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)),
          new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), from));
    }
    return clients;
  }

  /** Waits for every process to ramp; returns {held, failed}. */
  long[] held() throws Exception {
    long held = 0;
    long failed = 0;
    for (Child c : children) {
      String[] parts = readTagged(c.out, "HELD ").split(" ");
      held += Long.parseLong(parts[1]);
      failed += Long.parseLong(parts[2]);
    }
    return new long[] {held, failed};
  }

  double cpuSeconds() {
    return children.stream().mapToDouble(c -> ProcessCpu.seconds(c.process.pid())).sum();
  }

  void go() throws Exception {
    for (Child c : children) {
      c.in.write("GO\n");
      c.in.flush();
    }
  }

  /** Stops recording everywhere and collects the results (run indexes are the caller's list's). */
  Result stop(int runs) throws Exception {
    double cpu = cpuSeconds();
    for (Child c : children) {
      c.in.write("STOP\n");
      c.in.flush();
    }
    long held = 0;
    long failed = 0;
    long connected = 0;
    long rows = 0;
    Histogram latency = new Histogram();
    List<int[]> seqs = new ArrayList<>();
    for (Child c : children) {
      JsonObject r = new JsonObject(readTagged(c.out, "RESULT ").substring("RESULT ".length()));
      held += r.getLong("held");
      failed += r.getLong("failed");
      connected += r.getLong("connected");
      rows += r.getLong("rows");
      latency.merge(Histogram.fromJson(r.getJsonObject("latency")));
      for (Object o : r.getJsonArray("maxSeq")) {
        JsonArray pair = (JsonArray) o;
        seqs.add(new int[] {(c.runOffset + pair.getInteger(0)) % runs, pair.getInteger(1)});
      }
      c.process.waitFor();
    }
    return new Result(held, failed, connected, rows, latency, seqs, cpu);
  }

  private static String readTagged(BufferedReader out, String tag) throws Exception {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(tag)) {
        return line;
      }
    }
    throw new IllegalStateException("a load client ended without printing " + tag.trim());
  }

  @Override
  public void close() {
    for (Child c : children) {
      c.process.destroyForcibly();
    }
  }
}
