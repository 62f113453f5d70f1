package io.freshet.edge;

import io.freshet.core.push.PushProtocol.Caught;
import io.vertx.core.buffer.Buffer;

/**
 * A realtime stream's SSE response as trigger.dev's v1 readers expect it: events
 * {@code id: <ms>-<seq>} / {@code data: <line>}, header {@code X-Stream-Version: v1}. A clean end
 * means the stream is complete (its writer ended it, its run ended, or nothing came for
 * {@code Timeout-Seconds}), so every other end is a reset: the reader resumes with its
 * {@code Last-Event-ID}, on this node or another.
 */
final class StreamSse implements SseSession.Framing {

  private final long idleTimeoutMs;
  private final boolean stopWithNoContent;

  /**
   * @param stopWithNoContent answer a finished stream with nothing left with 204 rather than an
   *     empty 200: a browser's {@code EventSource} reconnects after every close, and only a 204
   *     makes it stop
   */
  StreamSse(long idleTimeoutMs, boolean stopWithNoContent) {
    this.idleTimeoutMs = idleTimeoutMs;
    this.stopWithNoContent = stopWithNoContent;
  }

  @Override
  public boolean begin(SseSession.Output out, Caught first) {
    var response = out.response();
    if (first.complete() && first.slice().isEmpty() && !first.more()) {
      // Nothing left to send of a finished stream.
      response.setStatusCode(stopWithNoContent ? 204 : 200);
      if (!stopWithNoContent) {
        headers(out);
      }
      response.end();
      return false;
    }
    response.setStatusCode(200);
    headers(out);
    response.setChunked(true);
    // Headers now: the SDK gives up on a stream whose response headers take 30 s.
    out.write(Buffer.buffer());
    return true;
  }

  private static void headers(SseSession.Output out) {
    out.response().putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache")
        .putHeader("x-stream-version", "v1").putHeader("x-accel-buffering", "no");
  }

  @Override
  public long endsAtMs(long startedAtMs, long lastDataAtMs) {
    return lastDataAtMs + idleTimeoutMs;
  }

  @Override
  public void interrupt(SseSession.Output out) {
    out.reset();
  }
}
