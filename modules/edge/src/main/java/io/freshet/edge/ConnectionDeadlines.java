package io.freshet.edge;

import io.freshet.core.time.Scheduler;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * When each HTTP connection of one event loop is closed for want of its client: one deadline per
 * connection, decided by what the connection is doing ({@link Phase}).
 *
 * <p>Why not Vert.x's own {@code HttpServerOptions.setIdleTimeout}: it is one Netty idle handler
 * for every connection of the server, counting reads and writes alike. A held long-poll reads and
 * writes nothing for its whole hold (about 20 s), so an idle timeout below the hold would cut every
 * long-poll, and one above it would leave a half-open socket 20 s or more; and it cannot tell a
 * request line that trickles in one byte a second (active, never complete) from a healthy client.
 * Vert.x 5 has no request-header timeout at all. So the edge keeps the deadlines itself, per
 * phase: the header deadline runs from the first byte and is not moved by later ones; an ordinary
 * request or an idle keep-alive connection is closed after {@code idleMs} without progress; held
 * feeds and stream readers (which have their own deadlines and keep-alives) and stream writers
 * (which have {@code streams.writerIdleTimeoutMs}) are exempt while they last.
 *
 * <p>Progress is a byte read (the connection's read hook calls {@link #read}) or the client
 * taking bytes that were written to it ({@link Connection#outboundPending()} falling): a client
 * that stops reading a large download is idle, one that reads it slowly is not. Timers are lazy:
 * a read only notes the time, and a timer that fires early re-arms for what is left. Not
 * thread-safe: one instance per event loop, called on it.
 */
final class ConnectionDeadlines {

  /** What a connection is doing, which decides its deadline. */
  enum Phase {
    /** Opened, or sent its first byte after a response: its request line and headers must be complete by a fixed deadline. */
    AWAITING_HEADERS,
    /** An ordinary request in flight: closed after {@code idleMs} without progress. */
    ORDINARY,
    /** A held feed, an SSE response, a stream reader or writer in flight: no deadline here. */
    EXEMPT,
    /** A keep-alive connection between requests: closed after {@code idleMs} without progress. */
    IDLE
  }

  /** Why a connection was closed (the {@code reason} of {@code freshet_http_connections_closed_total}). */
  static final String HEADER_TIMEOUT = "request-header-timeout";
  static final String IDLE_TIMEOUT = "idle-timeout";

  /** A connection as the deadlines see it. */
  interface Connection {
    void close();

    /** Bytes written to the connection that the client has not taken yet. */
    long outboundPending();
  }

  private static final class Tracked {
    final Object key;
    final Connection connection;
    Phase phase = Phase.AWAITING_HEADERS;
    long headersDueMs;
    long lastProgressMs;
    long lastPending;
    int inFlight;
    int exemptInFlight;
    long timer = -1;

    Tracked(Object key, Connection connection) {
      this.key = key;
      this.connection = connection;
    }
  }

  private final Scheduler scheduler;
  private final long headerMs;
  private final long idleMs;
  private final Consumer<String> onClose;
  private final Map<Object, Tracked> connections = new IdentityHashMap<>();

  /** {@code onClose} hears the reason of each connection these deadlines close. */
  ConnectionDeadlines(Scheduler scheduler, long headerMs, long idleMs, Consumer<String> onClose) {
    this.scheduler = scheduler;
    this.headerMs = headerMs;
    this.idleMs = idleMs;
    this.onClose = onClose;
  }

  /** A connection opened: its first request's headers are due within {@code headerMs}. */
  void opened(Object key, Connection connection) {
    Tracked t = new Tracked(key, connection);
    long now = scheduler.nowMs();
    t.headersDueMs = now + headerMs;
    t.lastProgressMs = now;
    connections.put(key, t);
    arm(t);
  }

  /** Bytes arrived on the connection. */
  void read(Object key) {
    Tracked t = connections.get(key);
    if (t == null) {
      return;
    }
    long now = scheduler.nowMs();
    t.lastProgressMs = now;
    if (t.phase == Phase.IDLE) {
      // The next request began: its headers are due from its first byte, whatever follows.
      t.phase = Phase.AWAITING_HEADERS;
      t.headersDueMs = now + headerMs;
      arm(t);
    }
  }

  /** A request's headers are complete and it reaches the routes; {@code exempt} for held and streaming requests. */
  void requestStarted(Object key, boolean exempt) {
    Tracked t = connections.get(key);
    if (t == null) {
      return;
    }
    t.inFlight++;
    if (exempt) {
      t.exemptInFlight++;
    }
    t.lastProgressMs = scheduler.nowMs();
    t.phase = t.exemptInFlight > 0 ? Phase.EXEMPT : Phase.ORDINARY;
    arm(t);
  }

  /** The request's response ended (or the request was given up). */
  void requestEnded(Object key, boolean exempt) {
    Tracked t = connections.get(key);
    if (t == null) {
      return;
    }
    t.inFlight = Math.max(0, t.inFlight - 1);
    if (exempt) {
      t.exemptInFlight = Math.max(0, t.exemptInFlight - 1);
    }
    t.lastProgressMs = scheduler.nowMs();
    t.phase = t.inFlight == 0 ? Phase.IDLE : t.exemptInFlight > 0 ? Phase.EXEMPT : Phase.ORDINARY;
    arm(t);
  }

  /** The connection closed, for whatever reason: forgotten. */
  void closed(Object key) {
    Tracked t = connections.remove(key);
    if (t != null) {
      scheduler.cancel(t.timer);
    }
  }

  /** The phase of a connection (null once closed), for tests and metrics. */
  Phase phase(Object key) {
    Tracked t = connections.get(key);
    return t == null ? null : t.phase;
  }

  int tracked() {
    return connections.size();
  }

  /** When the connection is due, in its phase; {@code Long.MAX_VALUE} when exempt. */
  private long dueMs(Tracked t) {
    return switch (t.phase) {
      case AWAITING_HEADERS -> t.headersDueMs;
      case ORDINARY, IDLE -> t.lastProgressMs + idleMs;
      case EXEMPT -> Long.MAX_VALUE;
    };
  }

  private void arm(Tracked t) {
    scheduler.cancel(t.timer);
    t.timer = -1;
    long due = dueMs(t);
    if (due != Long.MAX_VALUE) {
      t.timer = scheduler.after(due - scheduler.nowMs(), () -> check(t));
    }
  }

  private void check(Tracked t) {
    t.timer = -1;
    if (connections.get(t.key) != t) {
      return;
    }
    long now = scheduler.nowMs();
    if (t.phase != Phase.AWAITING_HEADERS) {
      long pending = t.connection.outboundPending();
      if (pending != t.lastPending) {
        // The client took (or we queued) bytes since the last look: progress, not idleness.
        t.lastPending = pending;
        t.lastProgressMs = now;
      }
    }
    if (now >= dueMs(t)) {
      String reason = t.phase == Phase.AWAITING_HEADERS ? HEADER_TIMEOUT : IDLE_TIMEOUT;
      closed(t.key);
      onClose.accept(reason);
      t.connection.close();
    } else {
      arm(t);
    }
  }
}
