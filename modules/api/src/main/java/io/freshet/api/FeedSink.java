package io.freshet.api;

import io.freshet.core.FreshetException;
import io.freshet.core.feed.FeedProtocol;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
 * This web edge instance's SSE sessions, grouped by the feed log they watch. Routers push log
 * growth here, one message per delivery round; each slice is written to every session on its log
 * (the same bytes for all of them). Per session there is no timer: one periodic tick writes
 * keep-alives and ends sessions whose time is up, and another refreshes this sink's registrations
 * with each router (and ends the sessions of logs a router no longer has, or of a router that is
 * gone: their clients reconnect and get a proper answer, 409 must-refetch). The same refresh
 * probes the routers this instance's long-polls are held on, and ends those polls at once when
 * their router is gone (killed, cut off, frozen) instead of letting them wait out the hold.
 */
final class FeedSink {

  /**
   * How often a router hears from each sink and each router holding polls is probed. A killed
   * router is found within this (the cluster drops its handlers once Hazelcast sees its sockets
   * close); a frozen one within this plus {@link Bus#OWNER_TIMEOUT_MS}.
   */
  static final long REFRESH_EVERY_MS = 2_000;
  /** How long a stopping sink keeps its consumer after telling its routers (one bus round trip, with room). */
  static final long STOP_GRACE_MS = 250;
  private static final long TICK_EVERY_MS = 1_000;

  private final Vertx vertx;
  private final String address;
  private final long keepAliveMs;
  private final LongSupplier clock;
  private final Map<String, Set<SseSession>> byHandle = new HashMap<>();
  private final Map<String, Set<Runnable>> heldPollsByRouter = new HashMap<>();
  private int sessions;
  private final java.util.function.Consumer<String> closed;

  FeedSink(Vertx vertx, String address, long keepAliveMs, LongSupplier clock, java.util.function.Consumer<String> closed) {
    this.closed = closed;
    this.vertx = vertx;
    this.address = address;
    this.keepAliveMs = keepAliveMs;
    this.clock = clock;
  }

  String address() {
    return address;
  }

  int sessions() {
    return sessions;
  }

  Future<Void> start() {
    MessageConsumer<FeedProtocol.Pushes> consumer = vertx.eventBus().consumer(address, msg -> onPushes(msg.body()));
    vertx.setPeriodic(TICK_EVERY_MS, id -> tick());
    vertx.setPeriodic(REFRESH_EVERY_MS, id -> refresh());
    return consumer.completion();
  }

  /**
   * Registers {@code session} (so pushes that race the answer are kept), then asks its router to
   * watch the log from the session's offset. {@code onAnswer} writes the headers once the router
   * has accepted the handle; {@code onRefused} answers a refusal (409, 400) as a plain response.
   */
  void watch(SseSession session, Runnable onAnswer, java.util.function.Consumer<Throwable> onRefused) {
    byHandle.computeIfAbsent(session.handle, k -> new LinkedHashSet<>()).add(session);
    sessions++;
    session.onDone(() -> forget(session));
    FeedProtocol.Watch watch = new FeedProtocol.Watch(session.handle, session.target.feed(), session.offset(), address);
    Bus.<FeedProtocol.Answer>askOwner(vertx, session.target.router(), watch, Bus.OWNER_TIMEOUT_MS).onComplete(ar -> {
      if (ar.failed()) {
        session.close(false, "refused");
        onRefused.accept(ar.cause());
        return;
      }
      if (session.state() == SseSession.State.DONE) { // ended while connecting (its log gone, the node stopping)
        onRefused.accept(new Bus.Gone("this feed ended while the stream was opening; refetch"));
        return;
      }
      onAnswer.run();
      session.started(ar.result().slice(), clock.getAsLong());
    });
  }

  /**
   * A long-poll held on {@code router}: {@code onGone} runs if the router is found gone before the
   * poll ends. Returns what to call when the poll ends.
   */
  Runnable holdPoll(String router, Runnable onGone) {
    heldPollsByRouter.computeIfAbsent(router, k -> new LinkedHashSet<>()).add(onGone);
    return () -> {
      Set<Runnable> held = heldPollsByRouter.get(router);
      if (held != null && held.remove(onGone) && held.isEmpty()) {
        heldPollsByRouter.remove(router);
      }
    };
  }

  /** A session's catch-up read, from its offset to the log's end. */
  void catchUp(SseSession session, long offset) {
    FeedProtocol.Poll poll = new FeedProtocol.Poll(session.handle, session.target.feed(), offset, false, 0, "");
    Bus.<FeedProtocol.Answer>askOwner(vertx, session.target.router(), poll, Bus.OWNER_TIMEOUT_MS).onComplete(ar -> {
      if (ar.failed()) {
        session.close(true, "gone"); // the reconnect gets a proper answer (409, or a fresh stream)
      } else {
        session.caughtUp(ar.result().slice(), clock.getAsLong());
      }
    });
  }

  private void onPushes(FeedProtocol.Pushes pushes) {
    long now = clock.getAsLong();
    for (FeedProtocol.Push push : pushes.pushes()) {
      Set<SseSession> watching = byHandle.get(push.handle());
      if (watching == null) {
        continue;
      }
      for (SseSession session : List.copyOf(watching)) {
        session.push(push.slice(), now);
      }
    }
  }

  private void forget(SseSession session) {
    Set<SseSession> watching = byHandle.get(session.handle);
    if (watching == null || !watching.remove(session)) {
      return;
    }
    sessions--;
    closed.accept(session.closedBecause());
    if (watching.isEmpty()) {
      byHandle.remove(session.handle);
      vertx.eventBus().send(session.target.router(), new FeedProtocol.Unwatch(session.handle, address));
    }
  }

  private void tick() {
    long now = clock.getAsLong();
    for (Set<SseSession> watching : List.copyOf(byHandle.values())) {
      for (SseSession session : List.copyOf(watching)) {
        session.tick(now, keepAliveMs);
      }
    }
  }

  /**
   * Proves this sink alive to each router it watches logs of, and probes each router holding this
   * instance's long-polls; ends the sessions of logs that are gone and the polls of routers that are.
   */
  private void refresh() {
    Map<String, List<String>> byRouter = new HashMap<>();
    for (Map.Entry<String, Set<SseSession>> entry : byHandle.entrySet()) {
      SseSession any = entry.getValue().iterator().next();
      if (any.state() != SseSession.State.CONNECTING) {
        byRouter.computeIfAbsent(any.target.router(), k -> new ArrayList<>()).add(entry.getKey());
      }
    }
    heldPollsByRouter.keySet().forEach(router -> byRouter.computeIfAbsent(router, k -> new ArrayList<>()));
    byRouter.forEach((router, handles) ->
        Bus.<FeedProtocol.Refreshed>askOwner(vertx, router, new FeedProtocol.Refresh(address, handles), Bus.OWNER_TIMEOUT_MS).onComplete(ar -> {
          boolean routerGone = ar.failed() && ar.cause() instanceof FreshetException fe && fe.status() == 409;
          List<String> gone = ar.succeeded() ? ar.result().unknown() : routerGone ? handles : List.of();
          for (String handle : gone) {
            Set<SseSession> watching = byHandle.get(handle);
            if (watching != null) {
              List.copyOf(watching).forEach(s -> s.close(true, "gone"));
            }
          }
          if (routerGone) {
            Set<Runnable> held = heldPollsByRouter.remove(router);
            if (held != null) {
              List.copyOf(held).forEach(Runnable::run);
            }
          }
        }));
  }

  /**
   * Ends every session (the node is stopping): clients reconnect to another node. Each log's router,
   * on this node or another, is told to stop pushing here; the returned future completes a moment
   * later, so that pushes already on their way still find this sink's consumer (and are dropped)
   * instead of being logged as discarded by a node that unregistered it.
   */
  Future<Void> closeAll() {
    for (Set<SseSession> watching : List.copyOf(byHandle.values())) {
      List.copyOf(watching).forEach(s -> s.close(true, "stopping"));
    }
    Promise<Void> drained = Promise.promise();
    vertx.setTimer(STOP_GRACE_MS, id -> drained.complete());
    return drained.future();
  }
}
