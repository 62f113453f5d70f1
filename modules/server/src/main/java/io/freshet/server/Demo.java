package io.freshet.server;

import io.freshet.core.time.Clock;
import io.freshet.core.FreshetConfig;
import io.freshet.store.Environments;
import io.freshet.store.Pools;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The visible demo: triggers a run, changes its metadata every {@code --interval} ms through the
 * write API, follows the run on the realtime feed with long-polls like an SDK would, and prints
 * every delivery with whether it carries the content just committed. The last line says whether
 * the final value arrived and how long after its commit.
 */
final class Demo {

  private Demo() {}

  static void main(FreshetConfig config, List<String> args) throws Exception {
    String base = Main.stringOption(args, "--base", "http://127.0.0.1:" + config.getInt(FreshetConfig.HTTP_PORT));
    int intervalMs = Integer.parseInt(Main.stringOption(args, "--interval", "50"));
    int steps = Integer.parseInt(Main.stringOption(args, "--steps", "40"));
    String key = Main.stringOption(args, "--key", null);
    long applyDelayMs = -1;
    Vertx vertx = Vertx.vertx();
    try {
      if (key == null) {
        Pool primary = Pools.primary(vertx, config.primaryUris(), 1, "demo");
        key = Environments.ensureDevelopment(primary).await(30, TimeUnit.SECONDS).apiKey();
      }
      String replicaUri = config.get(FreshetConfig.DB_REPLICA_URI);
      if (!replicaUri.isBlank()) {
        Pool replica = Pools.create(vertx, replicaUri, 1, "demo-replica");
        applyDelayMs = replica.query("SELECT setting::bigint FROM pg_settings WHERE name = 'recovery_min_apply_delay'")
            .execute().await(10, TimeUnit.SECONDS).iterator().next().getLong(0);
      }
    } catch (Exception e) {
      // the demo runs without knowing the apply delay
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String auth = "Bearer " + key;

    JsonObject triggered = post(http, base + "/api/v1/tasks/demo-task/trigger", auth, "POST",
        new JsonObject().put("payload", "{\"json\":{\"demo\":true}}").put("options",
            new JsonObject().put("payloadType", "application/super+json").put("tags", new JsonArray().add("demo"))
                .put("metadata", new JsonObject().put("step", 0))));
    String runId = triggered.getString("id");
    System.out.println("demo: triggered " + runId + "; following " + base + "/realtime/v1/runs/" + runId);

    ConcurrentHashMap<Integer, Long> committedAt = new ConcurrentHashMap<>();
    AtomicInteger lastCommitted = new AtomicInteger(0);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger backwards = new AtomicInteger();
    AtomicInteger lastSeen = new AtomicInteger(-1);
    java.util.List<Long> ages = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    AtomicInteger deliveries = new AtomicInteger();
    long[] finalArrival = {-1};
    String finalAuth = auth;

    Thread follower = new Thread(() -> {
      try {
        String url = base + "/realtime/v1/runs/" + runId + "?offset=-1";
        String handle = null;
        String offset = null;
        String cursor = "";
        while (!done.get() || finalArrival[0] < 0) {
          String target = handle == null ? url
              : base + "/realtime/v1/runs/" + runId + "?handle=" + handle + "&offset=" + offset + "&live=true&cursor=" + cursor;
          HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(target)).header("Authorization", finalAuth)
              .timeout(Duration.ofSeconds(40)).GET().build(), HttpResponse.BodyHandlers.ofString());
          handle = response.headers().firstValue("electric-handle").orElse(handle);
          offset = response.headers().firstValue("electric-offset").orElse(offset);
          cursor = response.headers().firstValue("electric-cursor").orElse(cursor);
          for (Object m : new JsonArray(response.body())) {
            JsonObject message = (JsonObject) m;
            JsonObject value = message.getJsonObject("value");
            if (value == null || value.getString("metadata") == null) {
              continue;
            }
            int step = new JsonObject(value.getString("metadata")).getInteger("step", -1);
            long now = Clock.SYSTEM.nowMs();
            Long at = committedAt.get(step);
            deliveries.incrementAndGet();
            boolean forward = step > lastSeen.getAndSet(Math.max(lastSeen.get(), step));
            if (!forward) {
              backwards.incrementAndGet();
            }
            if (at != null) {
              ages.add(now - at);
            }
            System.out.printf("demo: ← metadata.step = %3d   (written %4s ms ago; newest write so far: step %3d)%s%n", step,
                at == null ? "?" : Long.toString(now - at), lastCommitted.get(), forward ? "" : "  REPEATED/BACKWARDS");
            if (step == steps) {
              finalArrival[0] = at == null ? 0 : now - at;
            }
          }
        }
      } catch (Exception e) {
        System.out.println("demo: follower stopped: " + e);
        finalArrival[0] = Math.max(finalArrival[0], 0);
      }
    }, "demo-follower");
    follower.setDaemon(true);
    follower.start();

    Thread.sleep(500);
    for (int step = 1; step <= steps; step++) {
      committedAt.put(step, Clock.SYSTEM.nowMs());
      post(http, base + "/api/v1/runs/" + runId + "/metadata", auth, "PUT",
          new JsonObject().put("metadata", new JsonObject().put("step", step)));
      lastCommitted.set(step);
      Thread.sleep(intervalMs);
    }
    done.set(true);
    follower.join(30_000);
    java.util.List<Long> sorted = new java.util.ArrayList<>(ages);
    java.util.Collections.sort(sorted);
    System.out.println();
    System.out.printf("demo: %d writes every %d ms; %d deliveries, %d repeated or backwards%n", steps, intervalMs, deliveries.get(), backwards.get());
    if (!sorted.isEmpty()) {
      System.out.printf("demo: write-to-delivery p50 %d ms, max %d ms (replica apply delay %s)%n", sorted.get(sorted.size() / 2),
          sorted.get(sorted.size() - 1), applyDelayMs < 0 ? "unknown" : applyDelayMs + " ms");
    }
    System.out.printf("demo: final step %d %s%n", steps,
        finalArrival[0] >= 0 ? "arrived " + finalArrival[0] + " ms after it was written" : "did NOT arrive");
  }

  private static JsonObject post(HttpClient http, String url, String auth, String method, JsonObject body) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.encode()))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() >= 300) {
      throw new IllegalStateException(method + " " + url + " → " + response.statusCode() + " " + response.body());
    }
    return new JsonObject(response.body());
  }
}
