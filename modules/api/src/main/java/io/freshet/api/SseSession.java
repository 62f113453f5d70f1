package io.freshet.api;

import io.freshet.core.feed.LogSlice;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One SSE response watching a feed log. It registers once with the log (through its
 * {@link FeedSink}) and is written to when the log grows: no request and no timer per delivery.
 * Its position is an offset in the log; every slice it writes starts where the last one ended, so
 * a gap (a lost push, a slice that raced the registration) is noticed and filled with one catch-up
 * read, and a repeat is dropped.
 *
 * <p>A slow reader never grows the heap: when the socket's write queue is full the session stops
 * being written to ({@link State#BEHIND}) and, once drained, catches up with one read from its
 * offset; if the log moves more than {@code maxBehindEntries} past it meanwhile, the response is
 * closed and the client reconnects from its offset, losing nothing.
 */
final class SseSession {

  /** What the session is doing. */
  enum State {
    /** Waiting for the watch answer (what it missed); pushes are kept until then. */
    CONNECTING,
    /** Written to as the log grows. */
    LIVE,
    /** The socket is full: pushes are skipped, counted, and read again once it drains. */
    BEHIND,
    /** A catch-up read from its offset is in flight; pushes are kept until it lands. */
    CATCHING_UP,
    DONE
  }

  /** How a session asks its sink for what it missed since {@code offset}. */
  interface CatchUp {
    void from(SseSession session, long offset);
  }

  /** The socket as the session uses it: an HTTP response in production, a recorder in tests. */
  interface Output {
    void write(Buffer bytes);

    boolean writeQueueFull();

    void onDrain(Runnable drained);

    void onClose(Runnable closed);

    boolean isOpen();

    void end();

    static Output of(HttpServerResponse response) {
      return new Output() {
        @Override
        public void write(Buffer bytes) {
          response.write(bytes);
        }

        @Override
        public boolean writeQueueFull() {
          return response.writeQueueFull();
        }

        @Override
        public void onDrain(Runnable drained) {
          response.drainHandler(v -> drained.run());
        }

        @Override
        public void onClose(Runnable closed) {
          response.closeHandler(v -> closed.run());
        }

        @Override
        public boolean isOpen() {
          return !response.closed() && !response.ended();
        }

        @Override
        public void end() {
          response.end();
        }
      };
    }
  }

  final String handle;
  final RealtimeRoutes.FeedTarget target;
  private final Output response;
  private final long endsAtMs;
  private final int maxBehindEntries;
  private final Runnable release;
  private final CatchUp catchUp;
  private State state = State.CONNECTING;
  private long offset;
  private long lastWriteMs;
  private int behindBy;
  private final List<LogSlice> kept = new ArrayList<>();
  private Runnable onDone = () -> {};
  private String closedBecause;

  SseSession(String handle, RealtimeRoutes.FeedTarget target, Output response, long offset, long nowMs, long maxMs,
      int maxBehindEntries, Runnable release, CatchUp catchUp) {
    this.handle = handle;
    this.target = target;
    this.response = response;
    this.offset = offset;
    this.endsAtMs = nowMs + maxMs;
    this.lastWriteMs = nowMs;
    this.maxBehindEntries = maxBehindEntries;
    this.release = release;
    this.catchUp = catchUp;
  }

  State state() {
    return state;
  }

  String closedBecause() {
    return closedBecause;
  }

  long offset() {
    return offset;
  }

  void onDone(Runnable onDone) {
    this.onDone = onDone;
  }

  /** The watch answer: headers go out, then what the client missed, then the kept pushes. */
  void started(LogSlice missed, long nowMs) {
    if (state != State.CONNECTING) {
      return;
    }
    response.onClose(() -> close(false, "client"));
    response.write(Buffer.buffer(": connected\n\n"));
    lastWriteMs = nowMs;
    state = State.LIVE;
    apply(missed, nowMs);
    drainKept(nowMs);
  }

  /** The log grew by {@code slice}. */
  void push(LogSlice slice, long nowMs) {
    switch (state) {
      case CONNECTING, CATCHING_UP -> kept.add(slice);
      case LIVE -> {
        if (slice.from() > offset) {
          requestCatchUp(); // a push went missing: read what lies between
          kept.add(slice);
        } else {
          apply(slice, nowMs);
        }
      }
      case BEHIND -> {
        if (slice.to() > offset && ++behindBy > maxBehindEntries) {
          close(true, "behind"); // too far behind: the client reconnects from its offset
        }
      }
      case DONE -> { }
    }
  }

  /** A catch-up read landed. */
  void caughtUp(LogSlice missed, long nowMs) {
    if (state != State.CATCHING_UP) {
      return;
    }
    state = State.LIVE;
    apply(missed, nowMs);
    drainKept(nowMs);
  }

  /** Keep-alive comment after {@code keepAliveMs} of silence; the end of the response's life. */
  void tick(long nowMs, long keepAliveMs) {
    if (state == State.DONE) {
      return;
    }
    if (nowMs >= endsAtMs) {
      close(true, "deadline");
    } else if (state == State.BEHIND && !response.writeQueueFull()) {
      requestCatchUp(); // drained without telling: catch up now rather than at the next push
    } else if (state != State.BEHIND && state != State.CONNECTING && nowMs - lastWriteMs >= keepAliveMs) {
      write(Buffer.buffer(": keep-alive\n\n"), nowMs);
    }
  }

  /** Ends the session; {@code reason} (client, deadline, behind, gone, stopping, refused) is counted. */
  void close(boolean end, String reason) {
    if (state == State.DONE) {
      return;
    }
    closedBecause = reason;
    boolean headersSent = state != State.CONNECTING;
    state = State.DONE;
    kept.clear();
    release.run();
    // A session still connecting has sent nothing: the watch's answer decides what the client
    // gets (a 409 must-refetch, since the session is done), so a bare 200 never goes out here.
    if (end && headersSent && response.isOpen()) {
      response.end();
    }
    onDone.run();
  }

  private void apply(LogSlice slice, long nowMs) {
    if (slice.to() <= offset || slice.from() > offset) {
      return; // already written, or not contiguous (the caller reads the gap)
    }
    if (!slice.isEmpty()) {
      write(slice.sseEvents(), nowMs);
    }
    offset = slice.to();
  }

  private void write(Buffer events, long nowMs) {
    if (!response.isOpen()) {
      close(false, "client");
      return;
    }
    response.write(events);
    lastWriteMs = nowMs;
    if (response.writeQueueFull() && state == State.LIVE) {
      state = State.BEHIND;
      behindBy = 0;
      response.onDrain(() -> {
        if (state == State.BEHIND) {
          requestCatchUp();
        }
      });
      // The queue may have drained between the write and the handler: a drain already past never
      // calls it, and a session left BEHIND would skip every later push.
      if (!response.writeQueueFull() && state == State.BEHIND) {
        requestCatchUp();
      }
    }
  }

  private void drainKept(long nowMs) {
    while (state == State.LIVE && !kept.isEmpty()) {
      LogSlice next = kept.remove(0);
      if (next.from() > offset) {
        kept.add(0, next);
        requestCatchUp();
        return;
      }
      apply(next, nowMs);
    }
  }

  private void requestCatchUp() {
    state = State.CATCHING_UP;
    catchUp.from(this, offset);
  }
}
