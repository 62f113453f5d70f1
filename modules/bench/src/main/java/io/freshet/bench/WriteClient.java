package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/** The write API as the workload uses it: trigger a run, replace its metadata. */
class WriteClient {

  private final HttpClientAgent client;
  private final String authorization;

  WriteClient(HttpClientAgent client, String apiKey) {
    this.client = client;
    this.authorization = "Bearer " + apiKey;
  }

  /** Triggers a run of {@code task} with initial metadata; completes with its id ({@code run_...}). */
  Future<String> trigger(String task, JsonObject metadata) {
    JsonObject body = new JsonObject().put("payload", "bench")
        .put("options", new JsonObject().put("metadata", metadata));
    return send(HttpMethod.POST, "/api/v1/tasks/" + task + "/trigger", body).map(reply -> reply.getString("id"));
  }

  /** Replaces the run's metadata; the paced writes go through here. */
  Future<Void> updateMetadata(String runId, JsonObject metadata) {
    return send(HttpMethod.PUT, "/api/v1/runs/" + runId + "/metadata", new JsonObject().put("metadata", metadata)).mapEmpty();
  }

  /**
   * Replaces a run's metadata with {@code {"seq": k, "writtenAt": ms}} for k = 1..count, serially,
   * the k-th due at {@code firstAt + (k-1) * intervalMs}, recording each write's send and return
   * times in {@code trace}. Completes with the last write's return time.
   */
  Future<Long> pacedWrites(Vertx vertx, RunTrace trace, long firstAt, long intervalMs, int count,
      java.util.function.Consumer<String> onFailure) {
    Promise<Long> finished = Promise.promise();
    write(vertx, trace, 1, firstAt, intervalMs, count, onFailure, finished);
    return finished.future();
  }

  private void write(Vertx vertx, RunTrace trace, int seq, long dueAt, long intervalMs, int count,
      java.util.function.Consumer<String> onFailure, Promise<Long> finished) {
    vertx.setTimer(Math.max(1, dueAt - System.currentTimeMillis()), id -> {
      long sent = System.currentTimeMillis();
      updateMetadata(trace.runId, new JsonObject().put("seq", seq).put("writtenAt", sent)).onComplete(ar -> {
        long returned = System.currentTimeMillis();
        if (ar.succeeded()) {
          trace.wrote(seq, sent, returned);
        } else {
          onFailure.accept("  write failed: " + ar.cause().getMessage());
        }
        if (seq >= count) {
          finished.complete(returned);
        } else {
          write(vertx, trace, seq + 1, dueAt + intervalMs, intervalMs, count, onFailure, finished);
        }
      });
    });
  }

  private Future<JsonObject> send(HttpMethod method, String uri, JsonObject body) {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(uri)
        .putHeader("Authorization", authorization).putHeader("content-type", "application/json").setIdleTimeout(30_000);
    return client.request(options).compose(req -> req.send(body.toBuffer())).compose(resp -> resp.body().map(buf -> {
      if (resp.statusCode() / 100 != 2) {
        throw new IllegalStateException(method + " " + uri + " answered " + resp.statusCode() + ": " + buf);
      }
      return buf.toJsonObject();
    }));
  }
}
