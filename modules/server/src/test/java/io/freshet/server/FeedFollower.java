package io.freshet.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Follows a feed in a background thread the way Electric's client does: the snapshot, then live
 * long-polls (or SSE) from the handle and offset each answer returns. Records every row received.
 */
final class FeedFollower implements AutoCloseable {

  /** One row as received: when, its values, and the operation. */
  record Delivery(long atMs, JsonObject value, String operation) {
    String runId() {
      return value.getString("friendlyId");
    }

    JsonObject metadata() {
      String m = value.getString("metadata");
      return m == null ? null : new JsonObject(m);
    }
  }

  final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
  final List<Integer> statuses = new CopyOnWriteArrayList<>();
  volatile String handle;
  volatile String offset = "-1";
  /** SSE: the current stream's response arrived, which the server sends once the log registered it. */
  volatile boolean streaming;
  private final Thread thread;
  private volatile boolean stopped;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  FeedFollower(Http http, String pathAndQuery, boolean sse) {
    this(http, http, pathAndQuery, sse);
  }

  /** Opens the feed (its snapshot, so its log) on {@code opener}'s node, and follows it live through {@code live}'s. */
  FeedFollower(Http opener, Http live, String pathAndQuery, boolean sse) {
    thread = new Thread(() -> loop(opener, live, pathAndQuery, sse), "feed-follower");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop(Http opener, Http live, String pathAndQuery, boolean sse) {
    String cursor = "";
    String sep = pathAndQuery.contains("?") ? "&" : "?";
    while (!stopped) {
      Http http = handle == null ? opener : live;
      try {
        String url = http.base + pathAndQuery + sep + "offset=" + offset
            + (handle == null ? "" : "&handle=" + handle + "&live=true&cursor=" + cursor + (sse ? "&live_sse=true" : ""));
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + http.key)
            .timeout(Duration.ofSeconds(90)).GET().build();
        if (sse && handle != null) {
          HttpResponse<Stream<String>> response = client.send(request, HttpResponse.BodyHandlers.ofLines());
          statuses.add(response.statusCode());
          if (response.statusCode() != 200) {
            handleFailure(response.statusCode(), response.headers().firstValue("electric-handle").orElse(null));
            continue;
          }
          cursor = response.headers().firstValue("electric-cursor").orElse(cursor);
          streaming = true;
          List<JsonObject> group = new ArrayList<>();
          try (Stream<String> lines = response.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
              if (stopped) {
                break;
              }
              if (line.startsWith("data: ")) {
                JsonObject message = new JsonObject(line.substring(6));
                group.add(message);
                JsonObject headers = message.getJsonObject("headers");
                if (headers != null && "up-to-date".equals(headers.getString("control"))) {
                  long now = System.currentTimeMillis();
                  for (JsonObject m : group) {
                    record(m, now);
                  }
                  group.clear();
                  offset = headers.getString("global_last_seen_lsn") + "_0";
                }
              }
            }
          }
          streaming = false;
          continue;
        }
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        statuses.add(response.statusCode());
        if (response.statusCode() != 200) {
          handleFailure(response.statusCode(), response.headers().firstValue("electric-handle").orElse(null));
          continue;
        }
        long now = System.currentTimeMillis();
        // The rows first, then the handle: ready() returns once the handle is set, and a caller
        // then reads the snapshot's rows.
        for (Object m : new JsonArray(response.body())) {
          record((JsonObject) m, now);
        }
        handle = response.headers().firstValue("electric-handle").orElseThrow();
        offset = response.headers().firstValue("electric-offset").orElseThrow();
        cursor = response.headers().firstValue("electric-cursor").orElse(cursor);
      } catch (Exception e) {
        if (!stopped) {
          sleep(100);
        }
      }
    }
  }

  private void handleFailure(int status, String newHandle) {
    if (status == 409) {
      handle = null;
      offset = "-1";
    } else if (status >= 400 && status < 500) {
      stopped = true; // permanent, as the real clients treat it
    } else {
      sleep(100);
    }
  }

  private void record(JsonObject message, long now) {
    if (message.containsKey("key")) {
      deliveries.add(new Delivery(now, message.getJsonObject("value"), message.getJsonObject("headers").getString("operation")));
    }
  }

  List<Delivery> of(String runId) {
    return deliveries.stream().filter(d -> runId.equals(d.runId())).toList();
  }

  /**
   * How long {@link #await(Predicate)} waits for a delivery. It guards against a hang and claims
   * nothing about speed: generous for a loaded 2-core machine, yet short of the default backstop
   * ({@code router.livePollTimeoutMs}, 20 s less its 15 % jitter), so a delivery that arrives was
   * pushed by the change, not found by the backstop. Tests that need that to hold for longer move
   * the backstop out of the way.
   */
  static final long DELIVERY_TIMEOUT_MS = 15_000;

  /** Waits until a delivery matches; returns it, or null after {@link #DELIVERY_TIMEOUT_MS}. */
  Delivery await(Predicate<Delivery> match) {
    return await(match, DELIVERY_TIMEOUT_MS);
  }

  /** Waits until a delivery matches; returns it, or null after {@code timeoutMs} (a hang guard, never a speed claim). */
  Delivery await(Predicate<Delivery> match, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      for (Delivery d : deliveries) {
        if (match.test(d)) {
          return d;
        }
      }
      sleep(5);
    }
    return null;
  }

  /** SSE: waits until the stream is open, i.e. its log pushes to it from now on (the server's own signal). */
  FeedFollower streamingReady() {
    ready();
    long deadline = System.currentTimeMillis() + 20_000;
    while (!streaming && System.currentTimeMillis() < deadline) {
      sleep(5);
    }
    if (!streaming) {
      throw new IllegalStateException("no SSE stream; statuses " + statuses);
    }
    return this;
  }

  /** Waits until the snapshot has been received. */
  FeedFollower ready() {
    long deadline = System.currentTimeMillis() + 20_000;
    while (handle == null && System.currentTimeMillis() < deadline) {
      sleep(5);
    }
    if (handle == null) {
      throw new IllegalStateException("no snapshot; statuses " + statuses);
    }
    // Nothing to wait for after the snapshot: a change that lands before the first live request
    // reaches the router is in the feed's log, and that request starts from the snapshot's offset.
    return this;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
