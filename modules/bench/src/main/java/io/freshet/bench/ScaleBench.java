package io.freshet.bench;

import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.freshet.server.FreshetNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Scale figures for {@code gated}, on one node:
 *
 * <ol>
 *   <li><b>Routing.</b> {@code routingFeeds} runs, each followed by a held long-poll. Change records
 *       for those runs are published straight onto the node's event bus with {@link ChangePublisher}
 *       at an offered rate, with a watermark older than the lag (so the gate lets them through at
 *       once, the steady state of a busy feed). What is measured is the routers' full per-record
 *       path: receive, find the feeds, gate, batched hydrate from the replica, tripwire, diff (the
 *       row has not changed, so nothing is emitted): records processed
 *       ({@code freshet_change_records_total}) per second, from the first publish until the
 *       counter reaches the number published.
 *   <li><b>SSE.</b> {@link SseLoadClient} in a child JVM ramps SSE subscribers to the target, then
 *       updates the runs' metadata through the write API at the target rate and measures
 *       commit-to-client latency.
 *   <li><b>Memory.</b> The node's heap after a full GC before the ramp and with every subscriber
 *       held, divided by the subscribers held. The client is in its own JVM, so this is the node's.
 * </ol>
 */
final class ScaleBench {

  private final Vertx vertx;
  private final FreshetNode node;
  private final BenchMain.NodeClients clients;
  private final BenchSettings settings;
  private final Consumer<String> progress;

  ScaleBench(Vertx vertx, FreshetNode node, BenchMain.NodeClients clients, BenchSettings settings, Consumer<String> progress) {
    this.vertx = vertx;
    this.node = node;
    this.clients = clients;
    this.settings = settings;
    this.progress = progress;
  }

  ScaleResult run() throws Exception {
    NodeMeters meters = new NodeMeters(node.registry());

    // --- routing ---------------------------------------------------------------------------------
    List<String> runs = trigger(settings.routingFeeds());
    List<FeedSubscriber> feeds = new ArrayList<>();
    List<Future<Void>> opened = new ArrayList<>();
    for (String run : runs) {
      FeedSubscriber s = new FeedSubscriber(vertx, clients.feeds, clients.apiKey, run, false, (seq, u, a) -> {});
      feeds.add(s);
      opened.add(s.start());
    }
    for (Future<Void> f : opened) {
      Await.of(f, 60);
    }
    Thread.sleep(settings.scaleDelayMs() + 1000);
    progress.accept(String.format(Locale.ROOT, "routing: %d long-poll feeds held; publishing a burst of %,d records",
        feeds.size(), (long) settings.routingOfferedPerSecond() * settings.routingPublishMs() / 1000));
    String envId = node.development().id();
    ChangePublisher publisher = ChangePublisher.create(node.vertx());
    long watermark = System.currentTimeMillis() - 60_000;
    List<ChangeRecord> records = runs.stream().map(r -> ChangeRecord.of(envId, r, watermark, List.of(), null)).toList();
    NodeMeters.Reading before = meters.read();
    // A burst of records, published from a context of its own in chunks (so the node's other
    // tasks interleave), as fast as the event bus takes them; the routers drain the queue.
    long target = (long) settings.routingOfferedPerSecond() * settings.routingPublishMs() / 1000;
    io.vertx.core.Context publishing = node.vertx().getOrCreateContext();
    long[] published = {0};
    long[] publishedAt = {0};
    long start = System.currentTimeMillis();
    Runnable[] chunk = new Runnable[1];
    chunk[0] = () -> {
      for (int i = 0; i < 500 && published[0] < target; i++) {
        publisher.publish(records.get((int) (published[0] % records.size())));
        published[0]++;
      }
      if (published[0] < target) {
        publishing.runOnContext(v -> chunk[0].run());
      } else {
        publishedAt[0] = System.currentTimeMillis();
      }
    };
    publishing.runOnContext(v -> chunk[0].run());
    long routed = 0;
    long lastChange = System.currentTimeMillis();
    long drainDeadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < drainDeadline) {
      long now = (long) meters.read().minus(before).records();
      if (now != routed) {
        routed = now;
        lastChange = System.currentTimeMillis();
      }
      if (routed >= target) {
        break;
      }
      Thread.sleep(5);
    }
    progress.accept(String.format(Locale.ROOT, "routing: publishing %,d records took %,d ms", target,
        publishedAt[0] == 0 ? -1 : publishedAt[0] - start));
    NodeMeters.Reading used = meters.read().minus(before);
    long routingMs = Math.max(1, lastChange - start);
    double routedPerSecond = routed * 1000.0 / routingMs;
    double hydratesPerSecond = used.hydrates() * 1000.0 / routingMs;
    progress.accept(String.format(Locale.ROOT, "routing: %,d of %,d records routed in %,d ms = %,.0f/s (%,.0f hydrates/s)",
        routed, target, routingMs, routedPerSecond, hydratesPerSecond));
    feeds.forEach(FeedSubscriber::close);

    // --- SSE subscribers, latency at load, memory ------------------------------------------------
    List<String> sseRuns = trigger(settings.sseRuns());
    Thread.sleep(settings.scaleDelayMs() + 500);
    long heapBefore = heapAfterGc();
    Path runsFile = Files.createTempFile("freshet-bench-runs", ".txt");
    Files.write(runsFile, sseRuns);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx2g", "-cp", classpath, SseLoadClient.class.getName(),
        Integer.toString(node.httpPort()), clients.apiKey, runsFile.toString(), Integer.toString(settings.sseTarget()),
        Integer.toString(settings.sseChangesPerSecond()), Long.toString(settings.sseLoadMs()), Long.toString(settings.scaleDelayMs()))
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    progress.accept(String.format(Locale.ROOT, "SSE: ramping to %,d subscribers over %,d runs (client in its own JVM)",
        settings.sseTarget(), sseRuns.size()));
    Process child = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
    String line = readTagged(out, "HELD ");
    String[] parts = line.split(" ");
    int held = Integer.parseInt(parts[1]);
    int failed = Integer.parseInt(parts[2]);
    Thread.sleep(1000);
    long heapAfter = heapAfterGc();
    progress.accept(String.format(Locale.ROOT, "SSE: %,d held (%,d failed); node heap %,d → %,d MB; now %,d changes/s for %d ms",
        held, failed, heapBefore >> 20, heapAfter >> 20, settings.sseChangesPerSecond(), settings.sseLoadMs()));
    in.write("GO\n");
    in.flush();
    JsonObject result = new JsonObject(readTagged(out, "RESULT ").substring("RESULT ".length()));
    child.waitFor();
    Files.deleteIfExists(runsFile);
    progress.accept("SSE: " + result.encode());
    return new ScaleResult(runs.size(), target, routed, routedPerSecond, hydratesPerSecond, routingMs,
        settings.sseTarget(), held, failed, result.getDouble("changesPerSecond"), result.getLong("rows"),
        result.getLong("p50"), result.getLong("p99"), settings.scaleDelayMs(),
        held == 0 ? Double.NaN : (heapAfter - heapBefore) / (double) held, heapBefore, heapAfter);
  }

  private List<String> trigger(int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int from = 0; from < n; from += 200) {
      List<Future<String>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + 200); i++) {
        batch.add(clients.writer.trigger("bench-scale", new JsonObject().put("seq", 0)));
      }
      for (Future<String> f : batch) {
        ids.add(Await.of(f, 60));
      }
    }
    return ids;
  }

  private static String readTagged(BufferedReader out, String tag) throws Exception {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(tag)) {
        return line;
      }
    }
    throw new IllegalStateException("the SSE load client ended without printing " + tag.trim());
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getUsed();
  }

  static File none() {
    return null;
  }
}
