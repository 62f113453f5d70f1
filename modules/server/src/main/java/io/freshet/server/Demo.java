package io.freshet.server;

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
    if (key == null) {
      Vertx vertx = Vertx.vertx();
      Pool primary = Pools.create(vertx, config.get(FreshetConfig.DB_PRIMARY_URI), 1, "demo");
      key = Environments.ensureDevelopment(primary).await(30, TimeUnit.SECONDS).apiKey();
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
    AtomicInteger stale = new AtomicInteger();
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
            long now = System.currentTimeMillis();
            int latest = lastCommitted.get();
            Long at = committedAt.get(step);
            boolean current = step >= latest || (committedAt.containsKey(step + 1) && committedAt.get(step + 1) > now - 5);
            deliveries.incrementAndGet();
            if (!current) {
              stale.incrementAndGet();
            }
            System.out.printf("demo: ← step %3d   committed %4s ms ago   latest committed %3d   %s%n", step,
                at == null ? "?" : Long.toString(now - at), latest, current ? "current" : "STALE");
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
      committedAt.put(step, System.currentTimeMillis());
      post(http, base + "/api/v1/runs/" + runId + "/metadata", auth, "PUT",
          new JsonObject().put("metadata", new JsonObject().put("step", step)));
      lastCommitted.set(step);
      Thread.sleep(intervalMs);
    }
    done.set(true);
    follower.join(30_000);
    System.out.printf("demo: %d deliveries, %d stale; final step %d %s%n", deliveries.get(), stale.get(), steps,
        finalArrival[0] >= 0 ? "arrived " + finalArrival[0] + " ms after its commit" : "did NOT arrive");
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
