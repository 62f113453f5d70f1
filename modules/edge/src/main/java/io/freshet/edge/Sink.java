package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.Scheduler;
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
import java.util.function.Consumer;

/**
 * This web edge instance's SSE sessions, run feeds and realtime streams alike, grouped by the log
 * they follow. The logs' owners push their growth here, one message per delivery round; each
 * slice is written to every session on its log (the same bytes for all of them). Per session there
 * is no timer: one periodic tick writes keep-alives and ends sessions whose time is up, and another
 * refreshes this sink's registrations with each owner (and interrupts the sessions of logs an owner
 * no longer has, or of an owner that is gone: their clients reconnect and get a proper answer;
 * sessions short of the head the owner names lost a push, and catch up). The
 * same refresh probes the routers this instance's long-polls are held on, and ends those polls at
 * once when their router is gone (killed, cut off, frozen) instead of letting them wait out the hold.
 */
final class Sink implements SseSession.Follower {

  /**
   * How often an owner hears from each sink and each router holding polls is probed. A killed
   * owner is found within this (the cluster drops its handlers once Hazelcast sees its sockets
   * close); a frozen one within this plus {@link Bus#OWNER_TIMEOUT_MS}.
   */
  static final long REFRESH_EVERY_MS = 2_000;
  /** How long a stopping sink keeps its consumer after telling its owners (one bus round trip, with room). */
  static final long STOP_GRACE_MS = 250;
  private static final long TICK_EVERY_MS = 1_000;
  /** A stream's first answer may read the replica, and the primary before it: it gets longer than a feed's. */
  private static final long STREAM_FOLLOW_TIMEOUT_MS = 30_000;

  /** How many sessions of each kind are open, and why each one ended. */
  interface Counts {
    void opened(SseSession session);

    void closed(SseSession session, String reason);
  }

  private final Vertx vertx;
  private final Scheduler scheduler;
  private final String address;
  private final long keepAliveMs;
  private final Counts counts;
  private final Map<String, Set<SseSession>> byLog = new HashMap<>();
  private final Map<String, Set<Runnable>> heldPollsByRouter = new HashMap<>();
  private MessageConsumer<Object> consumer;
  private final MovedFeeds moved;

  Sink(Vertx vertx, Scheduler scheduler, String address, long keepAliveMs, Counts counts) {
    this.vertx = vertx;
    this.scheduler = scheduler;
    this.address = address;
    this.keepAliveMs = keepAliveMs;
    this.counts = counts;
    this.moved = new MovedFeeds(vertx);
  }

  String address() {
    return address;
  }

  Future<Void> start() {
    consumer = vertx.eventBus().consumer(address, msg -> {
      if (msg.body() instanceof PushProtocol.Pushes pushes) {
        onPushes(pushes);
      } else if (msg.body() instanceof PushProtocol.Moved moved) {
        onMoved(moved);
      }
    });
    scheduler.every(TICK_EVERY_MS, this::tick);
    scheduler.every(REFRESH_EVERY_MS, this::refresh);
    return consumer.completion();
  }

  /**
   * Registers {@code session} (so pushes that race the answer are kept), then asks the log's owner
   * to follow it from the session's position. The session writes its headers once the owner has
   * accepted; {@code refused} answers a refusal (409, 400, 404) as a plain response.
   */
  void follow(SseSession session, Consumer<Throwable> refused) {
    byLog.computeIfAbsent(session.log.id(), k -> new LinkedHashSet<>()).add(session);
    session.followedBy(this);
    counts.opened(session);
    ask(session, session.position()).onComplete(ar -> {
      if (ar.failed()) {
        session.close("refused");
        refused.accept(ar.cause());
        return;
      }
      if (session.state() == SseSession.State.DONE) { // ended while connecting (its log gone, the node stopping)
        refused.accept(new Bus.Gone("this feed ended while the stream was opening; refetch"));
        return;
      }
      session.started(ar.result(), scheduler.nowMs());
    });
  }

  /** A session's catch-up, from its position. */
  @Override
  public void catchUp(SseSession session, long position) {
    String asked = session.owner;
    ask(session, position).onComplete(ar -> {
      if (ar.failed() && !asked.equals(session.owner)) {
        return; // the log moved meanwhile: the catch-up at its new owner answers
      }
      if (ar.failed() && ar.cause() instanceof FreshetException fe && fe.status() == 409) {
        // The log may have moved without this sink hearing of it: follow it there, or end.
        relocateOrEnd(session, asked);
        return;
      }
      if (ar.failed()) {
        session.interrupt("gone"); // the reconnect gets a proper answer (409, or a fresh stream)
      } else {
        session.caughtUp(ar.result(), scheduler.nowMs());
      }
    });
  }

  private Future<PushProtocol.Caught> ask(SseSession session, long position) {
    PushProtocol.Follow follow = new PushProtocol.Follow(session.log, position, address);
    return session.log instanceof PushProtocol.Stream
        ? Bus.askLocal(vertx, session.owner, follow, STREAM_FOLLOW_TIMEOUT_MS) // streams are served by this node's stream router
        : Bus.askOwner(vertx, session.owner, follow, Bus.OWNER_TIMEOUT_MS);
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

  private void onPushes(PushProtocol.Pushes pushes) {
    long now = scheduler.nowMs();
    for (PushProtocol.Push push : pushes.pushes()) {
      Set<SseSession> following = byLog.get(push.log());
      if (following != null) {
        for (SseSession session : List.copyOf(following)) {
          session.push(push, now);
        }
      }
    }
  }

  /**
   * A log's owner handed it to another router (a graceful stop): each session on it follows it
   * there from its own position (a push that was on its way is caught up), its response going on.
   */
  private void onMoved(PushProtocol.Moved moved) {
    Set<SseSession> following = byLog.get(moved.log());
    if (following == null) {
      return;
    }
    for (SseSession session : List.copyOf(following)) {
      session.moved(moved.owner());
    }
  }

  /**
   * {@code asked} no longer has the session's log: if it was handed over (the cluster's map of
   * moved feeds says where), the session follows it there; otherwise it ends, and its client
   * reconnects and gets a proper answer (409, or a fresh stream).
   */
  private void relocateOrEnd(SseSession session, String asked) {
    String handle = session.log instanceof PushProtocol.FeedLog feed ? feed.handle() : null;
    if (handle == null) {
      session.interrupt("gone");
      return;
    }
    moved.find(handle, Set.of(asked)).onComplete(ar -> {
      if (!asked.equals(session.owner)) {
        return; // moved meanwhile by a Moved notice
      }
      if (ar.succeeded() && ar.result() != null) {
        session.moved(ar.result());
      } else {
        session.interrupt("gone");
      }
    });
  }

  /** Where handed-over feed logs went, for this instance's sessions and (through {@link #movedFeeds()}) its polls. */
  MovedFeeds movedFeeds() {
    return moved;
  }

  /** The session ended: its owner stops pushing here once no session follows the log. */
  @Override
  public void forget(SseSession session) {
    String log = session.log.id();
    Set<SseSession> following = byLog.get(log);
    if (following == null || !following.remove(session)) {
      return;
    }
    counts.closed(session, session.closedBecause());
    if (following.isEmpty()) {
      byLog.remove(log);
      vertx.eventBus().send(session.owner, new PushProtocol.Unfollow(log, address));
    }
  }

  private void tick() {
    long now = scheduler.nowMs();
    for (Set<SseSession> following : List.copyOf(byLog.values())) {
      for (SseSession session : List.copyOf(following)) {
        session.tick(now, keepAliveMs);
      }
    }
  }

  /**
   * Proves this sink alive to each owner it follows logs of, and probes each router holding this
   * instance's long-polls; interrupts the sessions of logs that are gone and ends the polls of
   * routers that are.
   */
  private void refresh() {
    Map<String, List<PushProtocol.Following>> byOwner = new HashMap<>();
    for (Map.Entry<String, Set<SseSession>> entry : byLog.entrySet()) {
      SseSession any = entry.getValue().iterator().next();
      if (any.state() != SseSession.State.CONNECTING) {
        byOwner.computeIfAbsent(any.owner, k -> new ArrayList<>()).add(new PushProtocol.Following(entry.getKey(), livePosition(entry.getValue())));
      }
    }
    heldPollsByRouter.keySet().forEach(router -> byOwner.computeIfAbsent(router, k -> new ArrayList<>()));
    byOwner.forEach((owner, positions) ->
        Bus.<PushProtocol.Refreshed>askOwner(vertx, owner, new PushProtocol.Refresh(address, positions), Bus.OWNER_TIMEOUT_MS)
            .onComplete(ar -> {
              boolean ownerGone = ar.failed() && ar.cause() instanceof FreshetException fe && fe.status() == 409;
              List<String> logs = positions.stream().map(PushProtocol.Following::log).toList();
              List<String> gone = ar.succeeded() ? ar.result().unknown() : ownerGone ? logs : List.of();
              if (ar.succeeded()) {
                for (PushProtocol.Following ahead : ar.result().ahead()) {
                  Set<SseSession> sessions = byLog.get(ahead.log());
                  if (sessions != null) {
                    List.copyOf(sessions).stream().filter(s -> owner.equals(s.owner)).forEach(s -> s.shortOf(ahead.position()));
                  }
                }
              }
              for (String log : gone) {
                Set<SseSession> following = byLog.get(log);
                if (following != null) {
                  // A log that moved meanwhile (a graceful stop) is followed at its new owner: not gone.
                  List.copyOf(following).stream().filter(s -> owner.equals(s.owner)).forEach(s -> relocateOrEnd(s, owner));
                }
              }
              if (ownerGone) {
                Set<Runnable> held = heldPollsByRouter.remove(owner);
                if (held != null) {
                  List.copyOf(held).forEach(Runnable::run);
                }
              }
            }));
  }

  /** The lowest position of the live sessions on a log, or {@link PushProtocol.Following#UNKNOWN} when none is live. */
  private static long livePosition(Set<SseSession> sessions) {
    long lowest = Long.MAX_VALUE;
    for (SseSession session : sessions) {
      if (session.state() == SseSession.State.LIVE) {
        lowest = Math.min(lowest, session.position());
      }
    }
    return lowest == Long.MAX_VALUE ? PushProtocol.Following.UNKNOWN : lowest;
  }

  /**
   * Ends every session (the node is stopping): clients reconnect to another node. Each log's owner,
   * on this node or another, is told to stop pushing here; the returned future completes a moment
   * later, so that pushes already on their way still find this sink's consumer (and are dropped)
   * instead of being logged as discarded by a node that unregistered it.
   */
  Future<Void> closeAll() {
    for (Set<SseSession> following : List.copyOf(byLog.values())) {
      List.copyOf(following).forEach(s -> s.interrupt("stopping"));
    }
    Promise<Void> drained = Promise.promise();
    scheduler.after(STOP_GRACE_MS, () -> drained.complete());
    return drained.future();
  }
}
