package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/**
 * What a request must be before it reaches the router, and which requests the connection
 * deadlines leave alone. A request the gate refuses is answered here, in the API's error format,
 * and its connection closed: a client that sent a malformed request line or ambiguous framing is
 * not trusted with the rest of its byte stream.
 */
final class RequestGate {

  private static final Pattern STREAM_WRITER = Pattern.compile("/realtime/v1/streams/[^/]+/[^/]+/[^/]+");

  private RequestGate() {}

  /**
   * Null when the raw path and query may be routed, else why not. vertx-web decodes the path
   * while it routes and fails a malformed escape ({@code /%zz}) with a stack trace in the log and
   * a plain-text answer; the path must also decode to UTF-8 (ids and keys are compared as text).
   */
  static String refusal(HttpServerRequest request) {
    try {
      RequestText.requireUtf8Query(request.path());
    } catch (FreshetException e) {
      return "the request path has a malformed percent-escape, or is not UTF-8 once decoded";
    }
    String query = request.query();
    if (query != null && hasMalformedEscape(query)) {
      return "the query string has a malformed percent-escape";
    }
    return null;
  }

  private static boolean hasMalformedEscape(String raw) {
    for (int i = raw.indexOf('%'); i >= 0; i = raw.indexOf('%', i + 1)) {
      if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0 || Character.digit(raw.charAt(i + 2), 16) < 0) {
        return true;
      }
    }
    return false;
  }

  /** Answers a refused request with a JSON 400 and closes its connection. */
  static void refuse(HttpServerRequest request, int status, String message) {
    var response = request.response();
    SecurityHeaders.apply(response);
    response.setStatusCode(status).putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
        .putHeader("connection", "close").end(new JsonObject().put("error", message).encode())
        .onComplete(v -> request.connection().close());
  }

  /**
   * The server's invalid-request handler: a request line or headers Netty could not decode, or
   * ambiguous framing ({@link HttpFraming}), get the API's error format instead of Vert.x's bare
   * 400, and the connection is closed (RFC 9112 6.3).
   */
  static void invalid(HttpServerRequest request) {
    DecoderResult result = request.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    if (cause instanceof TooLongHttpLineException) {
      refuse(request, 414, "request line too long");
    } else if (cause instanceof TooLongHttpHeaderException) {
      refuse(request, 431, "request headers too large");
    } else if (cause instanceof HttpFraming.AmbiguousFraming) {
      refuse(request, 400, cause.getMessage() + " (RFC 9112 6.3); the connection is closed");
    } else if (cause instanceof HttpFraming.UnsupportedVersion) {
      refuse(request, 400, cause.getMessage());
    } else {
      refuse(request, 400, "malformed HTTP request");
    }
  }

  /**
   * Whether the connection deadlines leave this request alone while it is in flight: a held feed
   * ({@code live=true}, long-poll or SSE) and a stream reader, which have their own deadlines and
   * keep-alives, and a stream writer's body, which has its own idle timeout.
   */
  static boolean exemptFromDeadlines(HttpServerRequest request) {
    String path = request.path();
    if (!path.startsWith("/realtime/v1/")) {
      return false;
    }
    if (request.method() == HttpMethod.POST) {
      return STREAM_WRITER.matcher(path).matches();
    }
    if (request.method() != HttpMethod.GET) {
      return false;
    }
    return path.startsWith("/realtime/v1/streams/") || ElectricProtocol.isLive(request.params());
  }
}
