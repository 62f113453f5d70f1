package io.freshet.edge;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.time.Clock;
import io.freshet.core.write.TriggerRequest;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.freshet.core.write.WriteReply.BatchItemsAdded;
import io.freshet.core.write.WriteReply.Cancelled;
import io.freshet.core.write.WriteReply.MetadataUpdated;
import io.freshet.core.write.WriteReply.TagsAdded;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.core.write.WriteRequests;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The write API in the shape of trigger.dev's public API. This edge authenticates, parses the
 * request into a typed {@link WriteCommand} ({@link WriteRequests}: every malformed field is refused
 * here), and hands it to the publisher verticle, which writes to the primary and publishes the
 * change record; the publisher's typed reply is rendered as the JSON the SDK reads.
 */
final class WriteRoutes {

  /** Public tokens returned by trigger and batch calls last an hour, as trigger.dev's do. */
  private static final long TOKEN_TTL_S = 3600;
  /** How long the publisher may take to answer a write. */
  private static final long WRITE_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final Authenticator auth;
  private final PacketRoutes packets;
  private final WriteRequests requests;
  private final Clock clock;
  private final WriteDeadline deadline;

  WriteRoutes(Vertx vertx, FreshetConfig config, Authenticator auth, PacketRoutes packets, Clock clock) {
    this.vertx = vertx;
    this.auth = auth;
    this.packets = packets;
    this.requests = new WriteRequests(TriggerRequest.Limits.of(config), clock);
    this.clock = clock;
    this.deadline = new WriteDeadline(config.getInt(FreshetConfig.HTTP_WRITE_DEADLINE_MS));
  }

  void mount(Router router) {
    router.post("/api/v1/tasks/:taskId/trigger").handler(ctx -> write(ctx, 200, (p, body) -> requests.trigger(p.envId(),
            ctx.pathParam("taskId"), body, ctx.request().getHeader("x-trigger-request-idempotency-key")),
        (p, reply) -> withPublicToken(ctx, p, "runs", reply.runId()).map(v -> reply.toJson())));
    router.post("/api/v3/batches").handler(ctx -> write(ctx, 202, (p, body) -> WriteRequests.createBatch(p.envId(), body),
        (p, reply) -> withPublicToken(ctx, p, "batch", reply.id()).map(v -> reply.toJson())));
    router.post("/api/v3/batches/:batchId/items").handler(ctx -> write(ctx, 200,
        (p, body) -> requests.batchItems(p.envId(), ctx.pathParam("batchId"), ndjson(ctx)), json(BatchItemsAdded::toJson)));
    router.post("/api/v2/tasks/batch").handler(ctx -> write(ctx, 202, (p, body) -> requests.batchTrigger(p.envId(), body),
        (p, reply) -> withPublicToken(ctx, p, "batch", reply.id()).map(v -> reply.toJson())));
    router.put("/api/v1/runs/:runId/metadata").handler(ctx -> write(ctx, 200,
        (p, body) -> WriteRequests.updateMetadata(p.envId(), FeedParams.id(ctx.pathParam("runId"), "runId"), body),
        json(MetadataUpdated::toJson)));
    router.post("/api/v1/runs/:runId/tags").handler(ctx -> write(ctx, 200,
        (p, body) -> WriteRequests.addTags(p.envId(), FeedParams.id(ctx.pathParam("runId"), "runId"), body), json(TagsAdded::toJson)));
    router.post("/api/v2/runs/:runId/cancel").handler(ctx -> write(ctx, 200,
        (p, body) -> new WriteCommand.Cancel(p.envId(), FeedParams.id(ctx.pathParam("runId"), "runId")), json(Cancelled::toJson)));
    router.get("/api/v3/runs/:runId").handler(ctx -> write(ctx, 200,
        (p, body) -> new WriteCommand.Retrieve(p.envId(), FeedParams.id(ctx.pathParam("runId"), "runId")),
        (p, run) -> packets.presignStored(ctx, p.envId(), run)));
    router.post("/engine/v1/runs/:runId/transitions").handler(ctx -> write(ctx, 200,
        (p, body) -> WriteRequests.transition(p.envId(), FeedParams.id(ctx.pathParam("runId"), "runId"), body),
        json(Transitioned::toJson)));
    router.post("/api/v1/auth/jwt/claims").handler(ctx -> auth.authenticate(ctx.request().getHeader("Authorization"))
        .onSuccess(p -> {
          p.requireSecret();
          ctx.json(new JsonObject().put("sub", p.envId()).put("pub", true));
        }).onFailure(ctx::fail));
  }

  /**
   * Authenticates with the secret key, parses the body and builds the command ({@code parse}: any
   * malformed input throws, and nothing is sent), sends it, and answers {@code status} with the
   * reply as {@code render} writes it.
   */
  private <R extends WriteReply> void write(RoutingContext ctx, int status, BiFunction<Principal, JsonObject, WriteCommand<R>> parse,
      BiFunction<Principal, R, Future<JsonObject>> render) {
    auth.authenticate(ctx.request().getHeader("Authorization")).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      try {
        Principal principal = ar.result();
        principal.requireSecret();
        WriteCommand<R> command = parse.apply(principal, jsonBody(ctx));
        if (!(command instanceof WriteCommand.Retrieve)) {
          String stamp = ctx.request().getHeader(WriteDeadline.HEADER);
          deadline.check(stamp, clock.nowMs());
          long deadlineAt = deadline.deadlineAt(stamp);
          if (command instanceof WriteCommand.UpdateMetadata update && deadlineAt > 0) {
            @SuppressWarnings("unchecked")
            WriteCommand<R> withDeadline = (WriteCommand<R>) update.withDeadline(deadlineAt);
            command = withDeadline;
          }
        }
        Bus.write(vertx, command, WRITE_TIMEOUT_MS).compose(reply -> render.apply(principal, reply)).onComplete(result -> {
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

  /** A reply that is its own response body. */
  private static <R> BiFunction<Principal, R, Future<JsonObject>> json(Function<R, JsonObject> toJson) {
    return (principal, reply) -> Future.succeededFuture(toJson.apply(reply));
  }

  /**
   * Adds a public token scoped to the new run or batch ({@code x-trigger-jwt}) and its claims, as
   * the SDK expects after a trigger or a batch.
   */
  private Future<Void> withPublicToken(RoutingContext ctx, Principal principal, String resource, String id) {
    return auth.secretKeyOf(principal.envId()).map(key -> {
      String scope = "read:" + resource + ":" + id;
      long nowS = clock.nowMs() / 1000;
      ctx.response().putHeader("x-trigger-jwt", PublicTokens.sign(key, principal.envId(), List.of(scope), nowS, TOKEN_TTL_S));
      ctx.response().putHeader("x-trigger-jwt-claims", new JsonObject().put("sub", principal.envId()).put("pub", true).encode());
      return null;
    });
  }

  /** The body as a JSON object; an empty body is {} (the SDK sends none on cancel). */
  private static JsonObject jsonBody(RoutingContext ctx) {
    if (ctx.request().path().endsWith("/items")) {
      return new JsonObject();
    }
    return RequestText.jsonObject(ctx.body().buffer());
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
