package io.freshet.api;

import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamProtocol.Caught;
import io.freshet.core.stream.StreamProtocol.Push;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One reader of a realtime stream: an SSE response written to as the node's stream router pushes
 * chunks. Its position is the seq of the last chunk it wrote; a chunk at or before it is a repeat
 * and dropped, one past the next is a gap (a push that raced the watch) and is filled by asking
 * the router again from the position. So a reader sees every chunk once, in order.
 *
 * <p>A full socket is not buffered: the session stops writing ({@link State#BEHIND}) and, once the
 * socket drains, asks the router for what it missed.
 */
final class StreamSession {

  enum State {
    /** The watch (or a catch-up) is in flight; pushes are kept until it lands. */
    CONNECTING,
    LIVE,
    /** The socket is full: pushes are dropped and read again once it drains. */
    BEHIND,
    DONE
  }

  /** How the session asks its router for what follows {@code afterSeq}. */
  interface Resync {
    void from(StreamSession session, long afterSeq);
  }

  final StreamRef stream;
  final HttpServerResponse response;
  private final Resync resync;
  private final Runnable onDone;
  private final long idleTimeoutMs;
  private final boolean stopWithNoContent;
  private State state = State.CONNECTING;
  private long position;
  private boolean headersSent;
  private final List<Push> held = new ArrayList<>();
  private long lastChunkAtMs;
  private long lastWriteAtMs;

  /**
   * @param afterSeq the seq the reader has (-1: none)
   * @param stopWithNoContent answer a finished stream with nothing left with 204 rather than an
   *     empty 200: a browser's {@code EventSource} reconnects after every close, and only a 204
   *     makes it stop
   */
  StreamSession(StreamRef stream, HttpServerResponse response, long afterSeq, long idleTimeoutMs, boolean stopWithNoContent,
      long nowMs, Resync resync, Runnable onDone) {
    this.stream = stream;
    this.response = response;
    this.position = afterSeq;
    this.idleTimeoutMs = idleTimeoutMs;
    this.stopWithNoContent = stopWithNoContent;
    this.lastChunkAtMs = nowMs;
    this.lastWriteAtMs = nowMs;
    this.resync = resync;
    this.onDone = onDone;
  }

  State state() {
    return state;
  }

  long position() {
    return position;
  }

  /** The router's answer to a watch or catch-up. */
  void caught(Caught caught, long nowMs) {
    if (state == State.DONE) {
      return;
    }
    if (!headersSent && caught.complete() && caught.chunks().stream().noneMatch(c -> c.seq() > position) && !caught.more()) {
      // Nothing left to send of a finished stream.
      headersSent = true;
      response.setStatusCode(stopWithNoContent ? 204 : 200);
      if (!stopWithNoContent) {
        sseHeaders();
      }
      finish();
      return;
    }
    sendHeaders();
    state = State.LIVE;
    if (!write(caught.chunks(), nowMs)) {
      return;
    }
    if (caught.more()) {
      state = State.CONNECTING;
      resync.from(this, position);
      return;
    }
    if (caught.complete()) {
      finish();
      return;
    }
    List<Push> waiting = new ArrayList<>(held);
    held.clear();
    for (Push push : waiting) {
      push(push, nowMs);
    }
  }

  /** A push from the router. */
  void push(Push push, long nowMs) {
    switch (state) {
      case CONNECTING -> held.add(push);
      case LIVE -> {
        if (write(push.chunks(), nowMs) && push.complete()) {
          finish();
        }
      }
      case BEHIND, DONE -> { }
    }
  }

  /** Writes chunks past the position; false when it stopped (a gap, a full socket). */
  private boolean write(List<StreamChunk> chunks, long nowMs) {
    Buffer out = null;
    boolean gap = false;
    for (StreamChunk chunk : chunks) {
      if (chunk.seq() <= position) {
        continue;
      }
      if (chunk.seq() != position + 1) {
        gap = true; // seqs have no holes: a push was missed
        break;
      }
      out = out == null ? Buffer.buffer().appendBuffer(chunk.event()) : out.appendBuffer(chunk.event());
      position = chunk.seq();
    }
    if (out != null) {
      response.write(out);
      lastChunkAtMs = nowMs;
      lastWriteAtMs = nowMs;
      if (response.writeQueueFull()) {
        state = State.BEHIND;
        response.drainHandler(v -> {
          if (state == State.BEHIND) {
            state = State.CONNECTING;
            resync.from(this, position);
          }
        });
        return false;
      }
    }
    if (gap) {
      state = State.CONNECTING;
      resync.from(this, position);
      return false;
    }
    return true;
  }

  /** Every second: a keep-alive comment after silence, the end after {@code idleTimeoutMs} without a chunk. */
  void tick(long nowMs, long keepAliveMs) {
    if (state == State.DONE || !headersSent) {
      return;
    }
    if (nowMs - lastChunkAtMs >= idleTimeoutMs) {
      finish();
    } else if (nowMs - lastWriteAtMs >= keepAliveMs && state != State.BEHIND) {
      lastWriteAtMs = nowMs;
      response.write(": keep-alive\n\n");
    }
  }

  /** The router could not serve the stream: an error status before any byte, else the end. */
  void fail(int status, String message) {
    if (state == State.DONE) {
      return;
    }
    if (!headersSent) {
      headersSent = true;
      state = State.DONE;
      response.setStatusCode(status).putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
          .end(new io.vertx.core.json.JsonObject().put("error", message).encode());
      onDone.run();
      return;
    }
    finish();
  }

  /** Ends the response cleanly: for the SDK, a clean end is the end of the stream. */
  void finish() {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    if (!response.ended() && !response.closed()) {
      response.end();
    }
    onDone.run();
  }

  /** The client went away. */
  void closed() {
    if (state != State.DONE) {
      state = State.DONE;
      onDone.run();
    }
  }

  private void sendHeaders() {
    if (!headersSent) {
      headersSent = true;
      response.setStatusCode(200);
      sseHeaders();
      response.setChunked(true);
      // Headers now: the SDK gives up on a stream whose response headers take 30 s.
      response.write(Buffer.buffer());
    }
  }

  private void sseHeaders() {
    response.putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache")
        .putHeader("x-stream-version", "v1").putHeader("x-accel-buffering", "no");
  }
}
