package io.freshet.api;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The write API in the shape of trigger.dev's public API. This edge authenticates and validates
 * the request's form, then hands a command to the publisher verticle, which writes to the primary
 * and publishes the change record.
 */
final class WriteRoutes {

  /** Public tokens returned by trigger and batch calls last an hour, as trigger.dev's do. */
  private static final long TOKEN_TTL_S = 3600;

  private final Vertx vertx;
  private final Authenticator auth;
  private final PacketRoutes packets;

  WriteRoutes(Vertx vertx, Authenticator auth, PacketRoutes packets) {
    this.vertx = vertx;
    this.auth = auth;
    this.packets = packets;
  }

  void mount(Router router) {
    router.post("/api/v1/tasks/:taskId/trigger").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "trigger").put("taskId", ctx.pathParam("taskId")).put("body", body)
        .put("requestKey", ctx.request().getHeader("x-trigger-request-idempotency-key")), "runs"));
    router.post("/api/v3/batches").handler(ctx -> command(ctx, 202, (p, body) -> new JsonObject()
        .put("op", "createBatch").put("body", body), "batch"));
    router.post("/api/v3/batches/:batchId/items").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "batchItems").put("batchId", ctx.pathParam("batchId")).put("items", ndjson(ctx)), null));
    router.post("/api/v2/tasks/batch").handler(ctx -> command(ctx, 202, (p, body) -> new JsonObject()
        .put("op", "batchTrigger").put("body", body), "batch"));
    router.put("/api/v1/runs/:runId/metadata").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "updateMetadata").put("runId", FeedRequests.id(ctx.pathParam("runId"), "runId")).put("body", body), null));
    router.post("/api/v1/runs/:runId/tags").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "addTags").put("runId", FeedRequests.id(ctx.pathParam("runId"), "runId")).put("tags", body.getValue("tags")), null));
    router.post("/api/v2/runs/:runId/cancel").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "cancel").put("runId", FeedRequests.id(ctx.pathParam("runId"), "runId")), null));
    router.get("/api/v3/runs/:runId").handler(ctx -> command(ctx, 200, (p, body) -> new JsonObject()
        .put("op", "retrieve").put("runId", FeedRequests.id(ctx.pathParam("runId"), "runId")), null));
    router.post("/engine/v1/runs/:runId/transitions").handler(ctx -> command(ctx, 200, (p, body) -> body.copy()
        .put("op", "transition").put("runId", FeedRequests.id(ctx.pathParam("runId"), "runId")), null));
    router.post("/api/v1/auth/jwt/claims").handler(ctx -> auth.authenticate(ctx.request().getHeader("Authorization"))
        .onSuccess(p -> {
          p.requireSecret();
          ctx.json(new JsonObject().put("sub", p.envId()).put("pub", true));
        }).onFailure(ctx::fail));
  }

  /**
   * Authenticates with the secret key, parses the body, sends the command, answers with the
   * publisher's reply (offloaded payloads and outputs it names get presigned download URLs); when {@code tokenResource} is set, adds a public token scoped to the new
   * run or batch ({@code x-trigger-jwt}), as the SDK expects.
   */
  private void command(RoutingContext ctx, int status, BiFunction<Principal, JsonObject, JsonObject> build, String tokenResource) {
    auth.authenticate(ctx.request().getHeader("Authorization")).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      try {
        Principal principal = ar.result();
        principal.requireSecret();
        JsonObject command = build.apply(principal, jsonBody(ctx)).put("envId", principal.envId());
        Bus.<JsonObject>ask(vertx, NodeAddresses.publisherCommands(), command, 30_000)
            .compose(reply -> packets.presignStored(ctx, principal.envId(), reply)).compose(reply -> {
          if (tokenResource == null) {
            return io.vertx.core.Future.succeededFuture(reply);
          }
          return auth.secretKeyOf(principal.envId()).map(key -> {
            String scope = "read:" + tokenResource + ":" + reply.getString("id");
            long now = System.currentTimeMillis() / 1000;
            ctx.response().putHeader("x-trigger-jwt", PublicTokens.sign(key, principal.envId(), List.of(scope), now, TOKEN_TTL_S));
            ctx.response().putHeader("x-trigger-jwt-claims", new JsonObject().put("sub", principal.envId()).put("pub", true).encode());
            return reply;
          });
        }).onComplete(result -> {
          if (result.failed()) {
            ctx.fail(result.cause());
          } else {
            ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(result.result().encode());
          }
        });
      } catch (RuntimeException e) {
        ctx.fail(e);
      }
    });
  }

  /** The body as a JSON object; an empty body is {} (the SDK sends none on cancel). */
  private static JsonObject jsonBody(RoutingContext ctx) {
    if (ctx.request().path().endsWith("/items")) {
      return new JsonObject();
    }
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0 || body.toString().isBlank()) {
      return new JsonObject();
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(body);
      if (parsed instanceof JsonObject obj) {
        RequestText.requireStorable(obj, "body");
        return obj;
      }
      throw FreshetException.badRequest("request body must be a JSON object");
    } catch (DecodeException e) {
      throw FreshetException.badRequest("request body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /** Batch items arrive as newline-delimited JSON, one item per line. */
  private static JsonArray ndjson(RoutingContext ctx) {
    String type = ctx.request().getHeader("content-type");
    if (type == null || !(type.startsWith("application/x-ndjson") || type.startsWith("application/ndjson"))) {
      throw new FreshetException(415, "batch items must be sent as application/x-ndjson");
    }
    JsonArray items = new JsonArray();
    Buffer body = ctx.body().buffer();
    if (body == null) {
      return items;
    }
    int lineNo = 0;
    for (String line : StreamRoutes.utf8(body, "batch items").split("\n")) { // strict: invalid UTF-8 is a 400, never U+FFFD
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonObject item;
      try {
        item = new JsonObject(line);
      } catch (DecodeException e) {
        throw FreshetException.badRequest("batch items line " + lineNo + " is not a JSON object");
      }
      RequestText.requireStorable(item, "batch items line " + lineNo);
      items.add(item);
    }
    return items;
  }
}
