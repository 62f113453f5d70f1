package io.freshet.edge;

import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.push.PushProtocol.Followed;
import io.freshet.core.push.PushProtocol.Push;
import io.freshet.core.push.Slice;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One SSE response following a log: a run feed's log or a realtime stream, whichever its
 * {@link Framing} speaks. It follows once (through its {@link Sink}) and is written to when the
 * log grows: no request and no timer per delivery. Its position is where the last slice it wrote
 * ended; a slice that starts further on (a lost push, a push that raced the follow) is a gap, filled
 * by following again from the position, and one that ends at or before it is a repeat, dropped.
 *
 * <p>A slow reader never grows the heap: when the socket's write queue is full the session stops
 * being written to ({@link State#BEHIND}) and, once drained, catches up from its position; if the
 * log moves more than {@code maxBehind} pushes past it meanwhile, the response is interrupted and
 * the client reconnects from its position, losing nothing. A keep-alive comment goes out after
 * {@code keepAliveMs} of silence.
 */
final class SseSession {

  enum State {
    /** Waiting for the first answer (what it missed); pushes are kept until then. */
    CONNECTING,
    /** Written to as the log grows. */
    LIVE,
    /** The socket is full: pushes are skipped, counted, and read again once it drains. */
    BEHIND,
    /** A catch-up from its position is in flight; pushes are kept until it lands. */
    CATCHING_UP,
    DONE
  }

  /** How the session's log speaks SSE: the feed's Electric events, or a stream's chunks. */
  interface Framing {
    /**
     * The first answer came: write the headers. Returns false when the response ended right there
     * (a finished stream with nothing left).
     */
    boolean begin(Output out, Caught first);

    /** When the response ends by itself, given when it started and when it last wrote data. */
    long endsAtMs(long startedAtMs, long lastDataAtMs);

    /**
     * Ends the response without saying the log ended (too far behind, its owner gone, the node
     * stopping): the client reconnects from its position.
     */
    void interrupt(Output out);
  }

  /** The socket as the session uses it: an HTTP response in production, a recorder in tests. */
  interface Output {
    void write(Buffer bytes);

    boolean writeQueueFull();

    void onDrain(Runnable drained);

    void onClose(Runnable closed);

    boolean isOpen();

    void end();

    /** Drops the connection (a reset): the client sees an interrupted response, never a clean end. */
    void reset();

    HttpServerResponse response();

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

        @Override
        public void reset() {
          response.reset();
        }

        @Override
        public HttpServerResponse response() {
          return response;
        }
      };
    }
  }

  /** What a session asks of the sink that follows for it. */
  interface Follower {
    /** Asks the log's owner for what follows {@code position}; the answer comes to {@link #caughtUp}. */
    void catchUp(SseSession session, long position);

    /** The session ended. */
    void forget(SseSession session);
  }

  static final Buffer KEEP_ALIVE = Buffer.buffer(": keep-alive\n\n");

  final Followed log;
  /**
   * The address of the log's owner (a router, on this node or another; the node's stream router).
   * It changes when the owner hands the log to another router at a graceful stop.
   */
  String owner;
  final Framing framing;
  private final Output out;
  private final long startedAtMs;
  private final int maxBehind;
  private final Runnable release;
  private State state = State.CONNECTING;
  private long position;
  private long lastWriteMs;
  private long lastDataMs;
  private int behindBy;
  private final List<Push> kept = new ArrayList<>();
  private Follower sink;
  private String closedBecause;

  /**
   * @param position where the client is (an offset in a feed log, a stream's seq; -1: before its first chunk)
   * @param release gives back what the session holds (its connection slot), exactly once
   */
  SseSession(Followed log, String owner, Framing framing, Output out, long position, long nowMs, int maxBehind, Runnable release) {
    this.log = log;
    this.owner = owner;
    this.framing = framing;
    this.out = out;
    this.position = position;
    this.startedAtMs = nowMs;
    this.lastWriteMs = nowMs;
    this.lastDataMs = nowMs;
    this.maxBehind = maxBehind;
    this.release = release;
    out.onClose(() -> close("client"));
  }

  State state() {
    return state;
  }

  long position() {
    return position;
  }

  String closedBecause() {
    return closedBecause;
  }

  /** The sink that follows for this session; it is told when the session ends. */
  void followedBy(Follower sink) {
    this.sink = sink;
  }

  /** The first answer: headers go out, then what the client missed, then the kept pushes. */
  void started(Caught first, long nowMs) {
    if (state != State.CONNECTING) {
      return;
    }
    if (!framing.begin(out, first)) {
      close("complete");
      return;
    }
    lastWriteMs = nowMs;
    state = State.LIVE;
    caughtUp(first, nowMs);
  }

  /** An answer to a catch-up (or the first one, once the headers are out). */
  void caughtUp(Caught caught, long nowMs) {
    if (state == State.DONE) {
      return;
    }
    state = State.LIVE;
    if (!apply(caught.slice(), nowMs)) {
      return;
    }
    if (caught.more()) {
      requestCatchUp(); // more than one answer carries
      return;
    }
    if (caught.complete() && position >= caught.slice().to()) {
      finish();
      return;
    }
    List<Push> waiting = new ArrayList<>(kept);
    kept.clear();
    for (Push push : waiting) {
      push(push, nowMs);
    }
  }

  /** The log grew. */
  void push(Push push, long nowMs) {
    switch (state) {
      case CONNECTING, CATCHING_UP -> kept.add(push);
      case LIVE -> {
        if (push.slice().from() > position) {
          kept.add(push);
          requestCatchUp(); // a push went missing: read what lies between
        } else if (apply(push.slice(), nowMs) && push.complete() && position >= push.slice().to()) {
          finish();
        }
      }
      case BEHIND -> {
        if (push.slice().to() > position && ++behindBy > maxBehind) {
          interrupt("behind"); // too far behind: the client reconnects from its position
        }
      }
      case DONE -> { }
    }
  }

  /** Every second: a keep-alive after silence, a drained socket caught up, the end of the response's life. */
  void tick(long nowMs, long keepAliveMs) {
    if (state == State.DONE || state == State.CONNECTING) {
      return;
    }
    if (nowMs >= framing.endsAtMs(startedAtMs, lastDataMs)) {
      finish("deadline");
    } else if (state == State.BEHIND && !out.writeQueueFull()) {
      requestCatchUp(); // drained without telling: catch up now rather than at the next push
    } else if (state != State.BEHIND && nowMs - lastWriteMs >= keepAliveMs) {
      write(KEEP_ALIVE, nowMs, false);
    }
  }

  /** The client left, or the session was refused before its headers: nothing more is written. */
  void close(String reason) {
    done(reason);
  }

  /** Ends the response without saying the log ended: the client reconnects from its position. */
  void interrupt(String reason) {
    boolean headersSent = state != State.CONNECTING;
    if (done(reason) && headersSent && out.isOpen()) {
      framing.interrupt(out);
    }
  }

  /** The log ended here: a clean end, which a stream's reader takes as the end of the stream. */
  private void finish() {
    finish("complete");
  }

  private void finish(String reason) {
    if (done(reason) && out.isOpen()) {
      out.end();
    }
  }

  private boolean done(String reason) {
    if (state == State.DONE) {
      return false;
    }
    closedBecause = reason;
    state = State.DONE;
    kept.clear();
    release.run();
    if (sink != null) {
      sink.forget(this);
    }
    return true;
  }

  /** Writes the slice past the position; false when the session stopped (closed, or a gap it asked to fill). */
  private boolean apply(Slice slice, long nowMs) {
    if (slice.to() <= position) {
      return true; // already written
    }
    Buffer events = slice.eventsAfter(position);
    if (events == null) {
      requestCatchUp(); // not contiguous: read what lies between
      return false;
    }
    position = slice.to();
    if (events.length() > 0) {
      write(events, nowMs, true);
    }
    return state != State.DONE;
  }

  private void write(Buffer bytes, long nowMs, boolean data) {
    if (!out.isOpen()) {
      close("client");
      return;
    }
    out.write(bytes);
    lastWriteMs = nowMs;
    if (data) {
      lastDataMs = nowMs;
    }
    if (out.writeQueueFull() && state == State.LIVE) {
      state = State.BEHIND;
      behindBy = 0;
      out.onDrain(() -> {
        if (state == State.BEHIND) {
          requestCatchUp();
        }
      });
      // The queue may have drained between the write and the handler: a drain already past never
      // calls it, and a session left BEHIND would skip every later push.
      if (!out.writeQueueFull() && state == State.BEHIND) {
        requestCatchUp();
      }
    }
  }

  /**
   * The owner's log reached {@code head} before it answered this sink's refresh, and every push it
   * sent before that has arrived: a live session still short of it lost a push and catches up.
   */
  void shortOf(long head) {
    if (state == State.LIVE && position < head) {
      requestCatchUp();
    }
  }

  /** Its log moved to {@code newOwner} (a graceful stop): it follows it there from its position. */
  void moved(String newOwner) {
    owner = newOwner;
    if (state == State.LIVE || state == State.BEHIND) {
      requestCatchUp();
    } else if (state == State.CATCHING_UP) {
      sink.catchUp(this, position); // the catch-up in flight went to the old owner: ask the new one too
    }
  }

  private void requestCatchUp() {
    if (state == State.DONE || sink == null) {
      return;
    }
    state = State.CATCHING_UP;
    sink.catchUp(this, position);
  }
}
