package io.freshet.edge;

import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.time.Clock;
import io.vertx.core.buffer.Buffer;

/**
 * A run feed's SSE response in Electric's shape protocol: the feed's headers (handle, offset,
 * cursor) once the router accepts the handle, then one {@code data:} event per change and an
 * up-to-date after each group. It ends after {@code realtime.sseMaxDurationMs}; an end is never
 * the feed's end for the Electric client, which reconnects from its offset.
 */
final class FeedSse implements SseSession.Framing {

  private static final Buffer CONNECTED = Buffer.buffer(": connected\n\n");

  private final String handle;
  private final String rawOffset;
  private final String cursor;
  private final long maxDurationMs;
  private final Clock clock;

  FeedSse(String handle, String rawOffset, String cursor, long maxDurationMs, Clock clock) {
    this.clock = clock;
    this.handle = handle;
    this.rawOffset = rawOffset;
    this.cursor = cursor;
    this.maxDurationMs = maxDurationMs;
  }

  @Override
  public boolean begin(SseSession.Output out, Caught first) {
    out.response().setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-store")
        .putHeader("x-accel-buffering", "no")
        .putHeader(ElectricProtocol.HANDLE, handle)
        .putHeader(ElectricProtocol.OFFSET, rawOffset)
        .putHeader(ElectricProtocol.CURSOR, ElectricProtocol.cursor(cursor, clock.nowMs()));
    out.write(CONNECTED);
    return true;
  }

  @Override
  public long endsAtMs(long startedAtMs, long lastDataAtMs) {
    return startedAtMs + maxDurationMs;
  }

  @Override
  public void interrupt(SseSession.Output out) {
    out.end(); // the Electric client reconnects from its offset after any end
  }
}
