package io.freshet.router.feeds;

import io.freshet.core.FreshetException;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.FeedProtocol.FeedRef;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.Scheduler;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.LagView;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The web edge's requests about feed logs, each a pipeline of named steps over typed values, as
 * Electric serves a shape request ({@code seek → listen → determine offsets → up-to-date}):
 * <ul>
 *   <li>open: {@link #join} the feed's log, or create it and take its {@link Snapshots snapshot};
 *   <li>poll: {@link #seek} the log the handle names, {@link #locate} the client's offset in it,
 *       then answer what it missed, or hold it until the log grows;
 *   <li>follow (an SSE session): seek, locate, register its sink for pushes, answer what it missed;
 *   <li>refresh: a sink's proof of life, answered with the logs that are gone.
 * </ul>
 */
final class FeedRequests {

  private final Scheduler scheduler;
  private final FeedLogs logs;
  private final Snapshots snapshots;
  private final FanOut fanOut;
  private final Backstops backstops;
  private final LagView lag;
  private final RouterMetrics metrics;
  /** Drops a log whose snapshot could not be taken. */
  private final java.util.function.Consumer<LiveLog> drop;

  FeedRequests(Scheduler scheduler, FeedLogs logs, Snapshots snapshots, FanOut fanOut, Backstops backstops, LagView lag,
      RouterMetrics metrics, java.util.function.Consumer<LiveLog> drop) {
    this.scheduler = scheduler;
    this.logs = logs;
    this.snapshots = snapshots;
    this.fanOut = fanOut;
    this.backstops = backstops;
    this.lag = lag;
    this.metrics = metrics;
    this.drop = drop;
  }

  // --- open --------------------------------------------------------------------------------------

  /** Joins the feed's log (creating it, with its snapshot, when there is none) and answers with the snapshot. */
  void open(FeedProtocol.Open request, PollReply reply) {
    lag.touch();
    LiveLog.Waiter waiter = new LiveLog.Waiter(reply, request.skipHistory());
    LiveLog live = join(request.feed(), request.expiredHandle());
    if (live != null) {
      live.touch(scheduler.nowMs());
      if (live.isOpen()) {
        Snapshots.answer(live, waiter);
      } else {
        live.waitForSnapshot(waiter);
      }
      return;
    }
    LiveLog created;
    try {
      created = logs.create(request.feed(), request.credential());
    } catch (FreshetException e) {
      reply.fail(e.status(), e.getMessage());
      return;
    }
    created.waitForSnapshot(waiter);
    subscribedOrLate(created.env).compose(v -> snapshots.take(created)).onFailure(cause -> {
      for (LiveLog.Waiter w : snapshots.abandon(created)) {
        fail(w.reply(), cause);
      }
      drop.accept(created);
    });
  }

  /**
   * The environment's subscription, waited for {@link EnvSubscriptions#WAIT_MS} at most. A late one
   * means records published on other nodes may not reach this router yet: its logs are read over
   * and over as after a membership change, from then until the registration lands, and once more
   * after it.
   */
  private Future<Void> subscribedOrLate(EnvFeeds env) {
    Future<Void> subscription = env.subscription();
    return EnvSubscriptions.awaitAtMost(subscription, scheduler, () -> {
      if (env.lateSubscription()) {
        backstops.resync(lag.lagMs());
        subscription.onSuccess(v -> backstops.resync(lag.lagMs()));
      }
    });
  }

  private LiveLog join(FeedRef feed, String expiredHandle) {
    return logs.joinable(feed, expiredHandle);
  }

  // --- poll --------------------------------------------------------------------------------------

  /** What the client at the poll's offset has not seen; held until the log grows when live and current. */
  void poll(FeedProtocol.Poll request, PollReply reply) {
    LiveLog live;
    FeedLog.Position position;
    try {
      live = seek(request.handle(), request.feed());
      position = locate(live, request.offset());
    } catch (FreshetException e) {
      reply.fail(e.status(), e.getMessage());
      return;
    }
    lag.touch();
    FeedLog log = live.log;
    if (position instanceof FeedLog.Behind behind) {
      reply.answer(log.handle, behind.slice());
    } else if (!request.live()) {
      reply.answer(log.handle, LogSlice.unchanged(log.seq()));
    } else {
      String pollId = request.pollId();
      fanOut.held().hold(log, pollId, reply, Math.max(1, request.holdMs()),
          () -> backstops.holdEnded(live).onComplete(ar -> endHold(live, pollId, "timeout")));
    }
  }

  /** The client of a held poll went away. */
  void cancel(FeedProtocol.Cancel request) {
    LiveLog live = logs.byHandle(request.handle());
    if (live != null) {
      endHold(live, request.pollId(), "cancelled");
    }
  }

  private void endHold(LiveLog live, String pollId, String outcome) {
    HeldPolls.Held held = fanOut.held().release(live.log, pollId);
    if (held != null) {
      metrics.livePoll(outcome);
      held.reply().answer(live.handle(), LogSlice.unchanged(live.log.seq()));
    }
  }

  // --- follow (SSE) ------------------------------------------------------------------------------

  /** An SSE session follows the log from its offset: what it missed now, every later entry pushed to its sink. */
  PushProtocol.Caught follow(PushProtocol.FeedLog followed, long offset, String sink) {
    LiveLog live = seek(followed.handle(), followed.feed());
    FeedLog.Position position = locate(live, offset);
    lag.touch();
    fanOut.sinks().follow(live.handle(), sink, scheduler.nowMs());
    LogSlice missed = position instanceof FeedLog.Behind behind ? behind.slice() : LogSlice.unchanged(live.log.seq());
    return new PushProtocol.Caught(missed, false, false);
  }

  void unfollow(PushProtocol.Unfollow request) {
    LiveLog live = logs.byHandle(request.log());
    if (live != null) {
      fanOut.sinks().unfollow(live.handle(), request.sink());
      live.touch(scheduler.nowMs());
    }
  }

  /**
   * A sink's proof of life for the logs it follows; returns the handles this router no longer has,
   * and the logs whose head is past where the sink's sessions are (they lost a push).
   */
  PushProtocol.Refreshed refresh(PushProtocol.Refresh request) {
    long now = scheduler.nowMs();
    List<String> unknown = new ArrayList<>();
    List<PushProtocol.Following> ahead = new ArrayList<>();
    for (PushProtocol.Following following : request.logs()) {
      LiveLog live = logs.byHandle(following.log());
      if (live == null) {
        unknown.add(following.log());
        continue;
      }
      if (!fanOut.sinks().refresh(following.log(), request.sink(), now)) {
        // The log is here but the sink is not registered (its registration expired, or the log
        // was handed over without it): it follows again.
        fanOut.sinks().follow(following.log(), request.sink(), now);
      }
      if (following.position() != PushProtocol.Following.UNKNOWN && live.log.seq() > following.position()) {
        ahead.add(new PushProtocol.Following(following.log(), live.log.seq()));
      }
      live.touch(now);
    }
    return new PushProtocol.Refreshed(unknown, ahead);
  }

  // --- steps -------------------------------------------------------------------------------------

  /**
   * The open log a request names by handle. A handle is only good for the environment, the feed
   * and the columns it was opened for: a caller never reads another environment's rows, or another
   * feed than its URL (and token) names.
   */
  private LiveLog seek(String handle, FeedRef feed) {
    LiveLog live = logs.byHandle(handle);
    if (live == null || !live.isOpen()) {
      throw new FreshetException(409, "handle is no longer known; refetch");
    }
    FeedLog log = live.log;
    if (!log.envId.equals(feed.envId()) || !log.filter.sameFeedAs(feed.filter()) || !log.columns.equals(feed.columns())) {
      throw new FreshetException(409, "handle does not belong to this feed; refetch");
    }
    live.touch(scheduler.nowMs());
    return live;
  }

  /** Where the client's offset falls in the log; an offset the log never issued, or one behind its retention, is refused. */
  private static FeedLog.Position locate(LiveLog live, long offset) {
    FeedLog.Position position = live.log.at(offset);
    if (position instanceof FeedLog.Ahead) {
      throw FreshetException.badRequest("offset " + offset + "_0 is ahead of this handle");
    }
    if (position instanceof FeedLog.TooOld) {
      throw new FreshetException(409, "offset " + offset + "_0 is too old for this handle; refetch");
    }
    return position;
  }

  private static void fail(PollReply reply, Throwable cause) {
    if (cause instanceof FreshetException fe) {
      reply.fail(fe.status(), fe.getMessage());
    } else {
      reply.fail(503, "feed read failed: " + cause.getMessage());
    }
  }
}
