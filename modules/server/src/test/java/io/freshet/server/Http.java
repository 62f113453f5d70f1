package io.freshet.server;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A blocking HTTP client for tests, authenticated with one environment's key. */
final class Http {

  record Response(int status, String body, HttpResponse<String> raw) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  final String base;
  final String key;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  Http(String base, String key) {
    this.base = base;
    this.key = key;
  }

  Http withKey(String otherKey) {
    return new Http(base, otherKey);
  }

  Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Response post(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  Response put(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("content-type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  Response send(HttpRequest.Builder request) {
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    try {
      HttpResponse<String> response = client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body(), response);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Triggers a run and returns its id. */
  String trigger(String task, JsonObject options) {
    Response r = post("/api/v1/tasks/" + task + "/trigger",
        new JsonObject().put("payload", "{\"json\":{}}").put("options", options.copy().put("payloadType", "application/super+json")).encode());
    if (r.status() != 200) {
      throw new IllegalStateException("trigger failed: " + r.status() + " " + r.body());
    }
    return r.json().getString("id");
  }

  /** Replaces a run's metadata; returns when the write has committed. */
  void setMetadata(String runId, JsonObject metadata) {
    Response r = put("/api/v1/runs/" + runId + "/metadata", new JsonObject().put("metadata", metadata).encode());
    if (r.status() != 200) {
      throw new IllegalStateException("metadata update failed: " + r.status() + " " + r.body());
    }
  }
}
