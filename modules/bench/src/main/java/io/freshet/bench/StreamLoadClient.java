package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The streams phases' load generator, in a JVM of its own: readers and writers of realtime
 * streams. Opens {@code readersPerStream} SSE readers on each stream, prints {@code HELD <held>
 * <failed>}, waits for {@code GO}, then writes {@code chunksPerSecond} NDJSON chunks a second to
 * every stream (one long chunked POST each, as the SDK's writer does) for {@code loadMs}, ends the
 * bodies (which closes the streams), waits for every reader's response to end, and prints
 * {@code RESULT <json>}: chunks received, commit-to-reader latency (arrival − the chunk's append
 * time, the {@code <ms>} of its event id, on the machine's one clock), and order violations.
 *
 * <p>Argument: a JSON spec file {@code {host, port, apiKey, streams: [runId...], key, readersPerStream, chunksPerSecond, loadMs}}.
 */
public final class StreamLoadClient {

  private static final int RAMP_BATCH = 250;
  private static final long TICK_MS = 10;

  /** One reader's position: the seq it last saw. */
  private static final class Reader {
    long last = -1;
    boolean connected;
    boolean ended;
  }

  public static void main(String[] args) throws Exception {
    JsonObject spec = new JsonObject(Files.readString(Path.of(args[0])));
    String apiKey = spec.getString("apiKey");
    List<String> streams = spec.getJsonArray("streams").stream().map(Object::toString).toList();
    String key = spec.getString("key");
    int readersPerStream = spec.getInteger("readersPerStream");
    int chunksPerSecond = spec.getInteger("chunksPerSecond");
    long loadMs = spec.getLong("loadMs");

    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    HttpClientAgent http = vertx.httpClientBuilder().with(new HttpClientOptions().setDefaultHost(spec.getString("host"))
        .setDefaultPort(spec.getInteger("port")).setKeepAlive(true).setTcpNoDelay(true).setIdleTimeout(0))
        .with(new PoolOptions().setHttp1MaxSize(50_000).setMaxWaitQueueSize(-1)).build();

    Histogram latency = new Histogram();
    AtomicLong chunks = new AtomicLong();
    AtomicLong outOfOrder = new AtomicLong();
    List<Reader> readers = new ArrayList<>();
    int failed = 0;
    int total = streams.size() * readersPerStream;
    for (int opened = 0; opened < total; ) {
      int n = Math.min(RAMP_BATCH, total - opened);
      List<Future<Void>> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String run = streams.get((opened + i) % streams.size());
        Reader reader = new Reader();
        readers.add(reader);
        batch.add(read(http, apiKey, run, key, reader, latency, chunks, outOfOrder));
      }
      for (Future<Void> f : batch) {
        try {
          Await.of(f, 60);
        } catch (Exception e) {
          failed++;
        }
      }
      opened += n;
    }
    long held = readers.stream().filter(r -> r.connected).count();
    System.out.println("HELD " + held + " " + failed);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    if (!"GO".equals(in.readLine())) {
      System.exit(1);
    }

    // One long body per stream; a tick writes every stream's share of chunks.
    List<HttpClientRequest> bodies = new ArrayList<>();
    List<Future<Integer>> answers = new ArrayList<>();
    for (String run : streams) {
      HttpClientRequest request = Await.of(http.request(new RequestOptions().setMethod(HttpMethod.POST)
          .setURI("/realtime/v1/streams/" + run + "/self/" + key).putHeader("Authorization", "Bearer " + apiKey)
          .putHeader("X-Client-Id", Integer.toHexString(run.hashCode())).putHeader("X-Resume-From-Chunk", "0")), 30);
      request.setChunked(true);
      answers.add(request.response().compose(r -> r.body().map(b -> r.statusCode())));
      request.sendHead();
      bodies.add(request);
    }
    long started = System.currentTimeMillis();
    long[] written = new long[streams.size()];
    AtomicLong full = new AtomicLong();
    Future<Void> writing = Future.future(done -> vertx.setPeriodic(TICK_MS, id -> {
      // Paced by the clock, not by the tick count: a late tick writes what was due meanwhile.
      long due = Math.min(loadMs, System.currentTimeMillis() - started) * chunksPerSecond / 1000;
      for (int s = 0; s < bodies.size(); s++) {
        HttpClientRequest body = bodies.get(s);
        StringBuilder lines = new StringBuilder();
        while (written[s] < due) {
          lines.append("{\"i\":").append(written[s]++).append(",\"token\":\"tok \"}\n");
        }
        if (!lines.isEmpty()) {
          if (body.writeQueueFull()) {
            full.incrementAndGet();
          }
          body.write(lines.toString());
        }
      }
      if (System.currentTimeMillis() - started >= loadMs) {
        vertx.cancelTimer(id);
        done.complete();
      }
    }));
    Await.of(writing, loadMs / 1000 + 120);
    long writeMs = System.currentTimeMillis() - started;
    bodies.forEach(HttpClientRequest::end);
    int refused = 0;
    for (Future<Integer> answer : answers) {
      try {
        if (Await.of(answer, 120) != 200) {
          refused++;
        }
      } catch (Exception e) {
        refused++;
      }
    }
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline && readers.stream().anyMatch(r -> r.connected && !r.ended)) {
      Thread.sleep(100);
    }
    long writtenTotal = 0;
    for (long w : written) {
      writtenTotal += w;
    }
    long complete = readers.stream().filter(r -> r.ended).count();
    long lastSeqOk = 0;
    for (int i = 0; i < readers.size(); i++) {
      if (readers.get(i).last == written[i % streams.size()] - 1) {
        lastSeqOk++;
      }
    }
    JsonObject result = new JsonObject().put("held", held).put("failed", failed).put("chunks", chunks.get())
        .put("written", writtenTotal).put("writeMs", writeMs).put("writersRefused", refused).put("outOfOrder", outOfOrder.get())
        .put("readersEnded", complete).put("readersWithLastChunk", lastSeqOk).put("writeQueueFull", full.get())
        .put("latency", latency.toJson());
    System.out.println("RESULT " + result.encode());
    System.out.flush();
    System.exit(0);
  }

  /** Opens one reader; completes once the response headers arrived. */
  private static Future<Void> read(HttpClientAgent http, String apiKey, String run, String key, Reader reader, Histogram latency,
      AtomicLong chunks, AtomicLong outOfOrder) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setURI("/realtime/v1/streams/" + run + "/" + key)
        .putHeader("Authorization", "Bearer " + apiKey).putHeader("Accept", "text/event-stream").putHeader("Timeout-Seconds", "600"))
        .compose(request -> request.send()).map(response -> {
          if (response.statusCode() != 200) {
            throw new IllegalStateException("reader got " + response.statusCode());
          }
          reader.connected = true;
          RecordParser lines = RecordParser.newDelimited("\n", (Buffer line) -> {
            if (line.length() > 4 && line.getByte(0) == 'i' && line.getByte(1) == 'd' && line.getByte(2) == ':') {
              String id = line.getString(4, line.length());
              int dash = id.indexOf('-');
              long at = Long.parseLong(id.substring(0, dash));
              long seq = Long.parseLong(id.substring(dash + 1));
              if (seq != reader.last + 1) {
                outOfOrder.incrementAndGet();
              }
              reader.last = Math.max(reader.last, seq);
              chunks.incrementAndGet();
              latency.record(System.currentTimeMillis() - at);
            }
          });
          response.handler(lines);
          response.endHandler(v -> reader.ended = true);
          response.exceptionHandler(e -> reader.ended = true);
          return null;
        });
  }

  private StreamLoadClient() {}
}
