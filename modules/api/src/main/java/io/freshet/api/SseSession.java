package io.freshet.api;

import io.freshet.core.ShapeHandle;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * One SSE response: a loop of live polls to the feed's router, each answer written as one
 * {@code data:} event per change and an up-to-date event carrying the new offset as
 * {@code global_last_seen_lsn}. The feed stays registered on its router between polls, so nothing
 * is missed while an answer is being written. Ends after {@code maxMs}; the client reconnects from
 * its last offset.
 */
final class SseSession {

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final ShapeHandle owner;
  private final String address;
  private final JsonObject pollTemplate;
  private final long endsAtMs;
  private final long keepAliveMs;
  private final long holdMs;
  private final Runnable release;
  private long seq;
  private long lastWriteMs;
  private long keepAliveTimer = -1;
  private long endTimer = -1;
  private String pollId;
  private boolean closed;

  SseSession(Vertx vertx, HttpServerResponse response, ShapeHandle owner, String address, JsonObject pollTemplate, long maxMs,
      long keepAliveMs, long holdMs, Runnable release) {
    this.vertx = vertx;
    this.response = response;
    this.owner = owner;
    this.address = address;
    this.pollTemplate = pollTemplate;
    this.endsAtMs = System.currentTimeMillis() + maxMs;
    this.keepAliveMs = keepAliveMs;
    this.holdMs = holdMs;
    this.release = release;
  }

  void start(JsonObject first) {
    response.closeHandler(v -> close(false));
    lastWriteMs = System.currentTimeMillis();
    response.write(": connected\n\n");
    seq = first.getLong("seq");
    write(first);
    keepAliveTimer = vertx.setPeriodic(Math.max(1000, keepAliveMs / 3), id -> {
      if (!closed && System.currentTimeMillis() - lastWriteMs >= keepAliveMs) {
        response.write(": keep-alive\n\n");
        lastWriteMs = System.currentTimeMillis();
      }
    });
    endTimer = vertx.setTimer(Math.max(1, endsAtMs - System.currentTimeMillis()), id -> close(true));
    next();
  }

  private void next() {
    if (closed) {
      return;
    }
    if (response.writeQueueFull()) {
      response.drainHandler(v -> next()); // a slow client: poll again once it has read
      return;
    }
    long remaining = endsAtMs - System.currentTimeMillis();
    if (remaining <= 0) {
      close(true);
      return;
    }
    pollId = UUID.randomUUID().toString();
    JsonObject request = pollTemplate.copy().put("offset", seq).put("live", true)
        .put("holdMs", Math.min(holdMs, remaining)).put("pollId", pollId);
    Bus.ask(vertx, address, request, Math.min(holdMs, remaining) + 15_000).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        close(true); // the reconnect gets a proper answer (409, or a fresh stream)
        return;
      }
      write(ar.result());
      next();
    });
  }

  private void write(JsonObject answer) {
    JsonArray messages = answer.getJsonArray("messages");
    if (messages.isEmpty()) {
      return;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      out.append("data: ").append(messages.getString(i)).append("\n\n");
    }
    seq = answer.getLong("seq");
    out.append("data: ").append(ElectricProtocol.upToDate(seq)).append("\n\n");
    response.write(out.toString());
    lastWriteMs = System.currentTimeMillis();
  }

  private void close(boolean end) {
    if (closed) {
      return;
    }
    closed = true;
    vertx.cancelTimer(keepAliveTimer);
    vertx.cancelTimer(endTimer);
    release.run();
    if (pollId != null) {
      vertx.eventBus().send(address, new JsonObject().put("op", "cancel").put("handle", owner.toString()).put("pollId", pollId));
    }
    if (end && !response.ended() && !response.closed()) {
      response.end();
    }
  }
}
