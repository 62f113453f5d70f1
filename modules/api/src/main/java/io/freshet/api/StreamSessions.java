package io.freshet.api;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The stream readers of one web edge instance. The node's stream router is told once per stream
 * that this instance watches it, and pushes each round's chunks here in one message; they are
 * written to every session following that stream, from one encoded buffer per chunk.
 */
final class StreamSessions {

  private static final long TICK_EVERY_MS = 1000;
  private static final long WATCH_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final String sink;
  private final long keepAliveMs;
  private final LongSupplier clock;
  private final Map<StreamRef, Set<StreamSession>> byStream = new HashMap<>();
  private MessageConsumer<StreamProtocol.Pushes> consumer;
  private long ticker = -1;

  StreamSessions(Vertx vertx, String nodeId, int webIndex, long keepAliveMs, LongSupplier clock) {
    this.vertx = vertx;
    this.sink = NodeAddresses.sink(nodeId, webIndex) + ".streams";
    this.keepAliveMs = keepAliveMs;
    this.clock = clock;
  }

  Future<Void> start() {
    consumer = vertx.eventBus().localConsumer(sink, message -> {
      long now = clock.getAsLong();
      for (StreamProtocol.Push push : message.body().pushes()) {
        Set<StreamSession> sessions = byStream.get(push.stream());
        if (sessions != null) {
          for (StreamSession session : new ArrayList<>(sessions)) {
            session.push(push, now);
          }
        }
      }
    });
    ticker = vertx.setPeriodic(TICK_EVERY_MS, id -> {
      long now = clock.getAsLong();
      for (Set<StreamSession> sessions : byStream.values()) {
        for (StreamSession session : new ArrayList<>(sessions)) {
          session.tick(now, keepAliveMs);
        }
      }
    });
    return consumer.completion();
  }

  int sessions() {
    return byStream.values().stream().mapToInt(Set::size).sum();
  }

  /** Starts following the session's stream from its position. */
  void open(StreamSession session) {
    byStream.computeIfAbsent(session.stream, s -> new LinkedHashSet<>()).add(session);
    watch(session, session.position());
  }

  /** Asks the router for what follows {@code afterSeq}; used for the first watch and every catch-up. */
  void watch(StreamSession session, long afterSeq) {
    Bus.<StreamProtocol.Caught>ask(vertx, NodeAddresses.streamRouter(), new StreamProtocol.Watch(session.stream, afterSeq, sink),
        WATCH_TIMEOUT_MS).onComplete(ar -> {
          if (ar.succeeded()) {
            session.caught(ar.result(), clock.getAsLong());
          } else {
            int status = ar.cause() instanceof io.freshet.core.FreshetException fe ? fe.status() : 503;
            session.fail(status, ar.cause().getMessage());
          }
        });
  }

  /** The session ended: the router stops pushing here once no session follows the stream. */
  void closed(StreamSession session) {
    Set<StreamSession> sessions = byStream.get(session.stream);
    if (sessions != null && sessions.remove(session) && sessions.isEmpty()) {
      byStream.remove(session.stream);
      vertx.eventBus().send(NodeAddresses.streamRouter(), new StreamProtocol.Unwatch(session.stream, sink));
    }
  }

  /** The node is stopping: every reader's response ends; their clients reconnect to another node from their last chunk. */
  Future<Void> closeAll() {
    vertx.cancelTimer(ticker);
    List<StreamSession> all = new ArrayList<>();
    byStream.values().forEach(all::addAll);
    for (StreamSession session : all) {
      session.response.reset();
      session.closed();
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
