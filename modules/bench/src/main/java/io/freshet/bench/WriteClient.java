package io.freshet.bench;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/** The write API as the workload uses it: trigger a run, replace its metadata. */
final class WriteClient {

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

  Future<Void> updateMetadata(String runId, JsonObject metadata) {
    return send(HttpMethod.PUT, "/api/v1/runs/" + runId + "/metadata", new JsonObject().put("metadata", metadata)).mapEmpty();
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
