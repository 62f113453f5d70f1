package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows one run's feed the way Electric's client does, without blocking: the snapshot
 * ({@code offset=-1}), then live long-polls ({@code live=true}) or an SSE stream
 * ({@code live_sse=true}), resuming from the handle, offset and cursor each answer carries; a 409
 * starts over from a new snapshot. Every row received is handed to the sink with its arrival time.
 */
final class FeedSubscriber {

  /** Receives each delivered row: its metadata {@code seq}, the server's {@code updatedAt} and the arrival time. */
  interface Sink {
    void row(int seq, long updatedAtMs, long arrivedAtMs);
  }

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final String authorization;
  private final String path;
  private final boolean sse;
  /** A bare SSE channel (nchan's {@code /sub/<channel>}): no snapshot, no handle, only the stream. */
  private final boolean channel;
  private final Sink sink;
  private String handle;
  private String offset = "-1";
  private String cursor = "";
  private HttpClientRequest current;
  private volatile boolean closed;
  private volatile boolean streaming;
  volatile int failures;

  FeedSubscriber(Vertx vertx, HttpClientAgent client, String apiKey, String runId, boolean sse, Sink sink) {
    this(vertx, client, "Bearer " + apiKey, "/realtime/v1/runs/" + runId, sse, false, sink);
  }

  private FeedSubscriber(Vertx vertx, HttpClientAgent client, String authorization, String path, boolean sse, boolean channel, Sink sink) {
    this.vertx = vertx;
    this.client = client;
    this.authorization = authorization;
    this.path = path;
    this.sse = sse;
    this.channel = channel;
    this.sink = sink;
  }

  /**
   * A subscriber of a bare broadcaster's channel (nchan): the same SSE parsing and recording, with
   * each published message carrying the lines Freshet would send (a change and its up-to-date).
   */
  static FeedSubscriber channel(Vertx vertx, HttpClientAgent client, String channel, Sink sink) {
    return new FeedSubscriber(vertx, client, "", "/sub/" + channel, true, true, sink);
  }

  boolean sse() {
    return sse;
  }

  /** True once the SSE response has started (or, for long-poll, once the snapshot arrived). */
  boolean connected() {
    return streaming;
  }

  /** Takes the snapshot, then follows live until {@link #close}. Completes when the snapshot has arrived. */
  Future<Void> start() {
    Promise<Void> opened = Promise.promise();
    if (channel) {
      live(opened);
    } else {
      snapshot(opened);
    }
    return opened.future();
  }

  void close() {
    closed = true;
    HttpClientRequest request = current;
    if (request != null) {
      request.reset();
    }
  }

  private void snapshot(Promise<Void> opened) {
    get(path + "?offset=-1").compose(resp -> resp.body().map(body -> {
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("snapshot answered " + resp.statusCode() + ": " + body);
      }
      handle = resp.getHeader("electric-handle");
      offset = resp.getHeader("electric-offset");
      rows(new JsonArray(body), System.currentTimeMillis());
      return (Void) null;
    })).onComplete(ar -> {
      if (ar.failed()) {
        failures++;
        if (opened != null) {
          opened.tryFail(ar.cause());
        } else if (!closed) {
          vertx.setTimer(200, id -> snapshot(null));
        }
        return;
      }
      if (opened != null) {
        opened.tryComplete();
      }
      if (!sse) {
        streaming = true;
      }
      live();
    });
  }

  private void live() {
    live(null);
  }

  /** {@code opened}: a channel subscriber's start, completed once its stream's headers arrived. */
  private void live(Promise<Void> opened) {
    if (closed) {
      return;
    }
    String uri = channel ? path
        : path + "?handle=" + handle + "&offset=" + offset + "&live=true&cursor=" + cursor + (sse ? "&live_sse=true" : "");
    get(uri).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (opened != null) {
        if (ar.succeeded() && ar.result().statusCode() == 200) {
          opened.tryComplete();
        } else {
          opened.tryFail(ar.failed() ? ar.cause() : new IllegalStateException("channel answered " + ar.result().statusCode()));
          return;
        }
      }
      if (ar.failed()) {
        failures++;
        streaming = false;
        vertx.setTimer(100, id -> live());
        return;
      }
      HttpClientResponse resp = ar.result();
      if (resp.statusCode() == 409) {
        resp.body().onComplete(x -> restart());
        return;
      }
      if (resp.statusCode() != 200) {
        failures++;
        resp.body().onComplete(x -> vertx.setTimer(100, id -> live()));
        return;
      }
      String c = resp.getHeader("electric-cursor");
      if (c != null) {
        cursor = c;
      }
      if (sse) {
        stream(resp);
      } else {
        resp.body().onComplete(body -> {
          if (body.failed()) {
            failures++;
            vertx.setTimer(100, id -> live());
            return;
          }
          long now = System.currentTimeMillis();
          handle = resp.getHeader("electric-handle");
          offset = resp.getHeader("electric-offset");
          rows(new JsonArray(body.result()), now);
          live();
        });
      }
    });
  }

  /**
   * The SSE stream. Lines are scanned, not parsed as JSON: at fan-out a load client reads tens of
   * thousands of events a second, and building an object per event would make it the bottleneck.
   * A group of changes is recorded when its up-to-date event arrives, as Electric's client applies it.
   */
  private void stream(HttpClientResponse resp) {
    streaming = true;
    List<String> group = new ArrayList<>();
    RecordParser lines = RecordParser.newDelimited("\n", resp);
    lines.handler(line -> {
      if (line.length() < 6 || line.getByte(0) != 'd' || !line.getString(0, 6).equals("data: ")) {
        return; // comments, keep-alives and blank separators
      }
      String event = line.getString(6, line.length());
      int lsn = event.indexOf("\"global_last_seen_lsn\":\"");
      if (lsn >= 0) {
        long now = System.currentTimeMillis();
        for (String message : group) {
          sink.row(seqOf(message), updatedAtMs(field(message, "\"updatedAt\":\"")), now);
        }
        group.clear();
        int start = lsn + "\"global_last_seen_lsn\":\"".length();
        offset = event.substring(start, event.indexOf('"', start)) + "_0";
      } else if (event.startsWith("{\"key\":")) {
        group.add(event);
      }
    });
    lines.exceptionHandler(e -> failures++);
    lines.endHandler(v -> {
      streaming = false;
      live(); // the server ends a stream after a while; reconnect from the last offset at once
    });
  }

  private void restart() {
    handle = null;
    offset = "-1";
    streaming = false;
    snapshot(null);
  }

  private Future<HttpClientResponse> get(String uri) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setURI(uri).setIdleTimeout(90_000);
    if (!channel) {
      options.putHeader("Authorization", authorization);
    }
    if (sse && (channel || uri.contains("live_sse"))) {
      options.putHeader("Accept", "text/event-stream");
    }
    return client.request(options).compose(request -> {
      current = request;
      return request.send();
    });
  }

  private void rows(JsonArray messages, long arrivedAtMs) {
    for (int i = 0; i < messages.size(); i++) {
      JsonObject message = messages.getJsonObject(i);
      if (!message.containsKey("key")) {
        continue;
      }
      JsonObject value = message.getJsonObject("value");
      String metadata = value.getString("metadata");
      int seq = -1;
      if (metadata != null) {
        seq = new JsonObject(metadata).getInteger("seq", -1);
      }
      sink.row(seq, updatedAtMs(value.getString("updatedAt")), arrivedAtMs);
    }
  }

  /** The {@code seq} in a change message's metadata text ({@code "metadata":"{\"seq\":12,...}"}), or -1. */
  static int seqOf(String message) {
    int at = message.indexOf("\\\"seq\\\":");
    if (at < 0) {
      return -1;
    }
    int i = at + "\\\"seq\\\":".length();
    int value = 0;
    boolean any = false;
    while (i < message.length() && Character.isDigit(message.charAt(i))) {
      value = value * 10 + (message.charAt(i++) - '0');
      any = true;
    }
    return any ? value : -1;
  }

  /** The text of a string field that starts right after {@code prefix}, or null. */
  static String field(String message, String prefix) {
    int at = message.indexOf(prefix);
    if (at < 0) {
      return null;
    }
    int start = at + prefix.length();
    int end = message.indexOf('"', start);
    return end < 0 ? null : message.substring(start, end);
  }

  /** {@code updatedAt} is zone-less UTC text, e.g. {@code 2026-01-15 10:17:03.123}. */
  static long updatedAtMs(String text) {
    if (text == null) {
      return -1;
    }
    try {
      return LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
