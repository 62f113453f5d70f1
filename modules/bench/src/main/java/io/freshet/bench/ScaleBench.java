package io.freshet.bench;

import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.freshet.server.FreshetNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The routing figure for {@code gated}, on one node:
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
 * </ol>
 *
 * <p>SSE subscribers, their latency at load and their memory are the fan-out phases' ({@link FanOutBench}).
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

    return new ScaleResult(runs.size(), target, routed, routedPerSecond, hydratesPerSecond, routingMs);
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
}
