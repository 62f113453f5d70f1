package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every failure becomes {@code {"error": message}}: a client error with its status, anything
 * unexpected as 500, logged once. Permanent client errors never use 408/409/429/5xx, which the
 * SDK would retry.
 */
final class HttpErrors {

  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {}

  static void handle(RoutingContext ctx) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    Throwable failure = ctx.failure();
    if (failure != null && !(failure instanceof FreshetException)) {
      failure = io.freshet.store.DatabaseErrors.classify(failure).map(Throwable.class::cast).orElse(failure);
    }
    int status;
    String message;
    if (failure instanceof FreshetException fe) {
      status = fe.status();
      message = fe.getMessage();
    } else if (failure == null && ctx.statusCode() == 413) {
      status = 413;
      message = "request body too large";
    } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      // A handler of vertx-web's that refused the request with its own status (CORS: an origin
      // not in http.corsOrigins is a 403) and, perhaps, its own reason.
      status = ctx.statusCode();
      message = failure != null && failure.getMessage() != null ? failure.getMessage()
          : status == 404 ? "no such endpoint" : "bad request";
    } else if (failure instanceof IllegalArgumentException || failure instanceof ClassCastException
        || failure instanceof io.vertx.core.json.DecodeException) {
      status = 400;
      message = "bad request: " + failure.getMessage();
    } else {
      status = 500;
      message = "internal error";
      log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), failure);
    }
    if (status == 429 || status == 503) {
      ctx.response().putHeader("retry-after", "1"); // the 1.5 Electric client waits at least this long
    }
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(new JsonObject().put("error", message).encode());
  }
}
