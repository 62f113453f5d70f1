package io.freshet.router;

import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.ShapeHandle;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * One router instance's feeds: opens them (snapshot), serves their polls (held until rows arrive
 * or the hold ends with a backstop read), and expires the ones nobody polls. Environments are
 * subscribed while they have feeds here and linger briefly after the last one goes.
 *
 * <p>Requests and replies are JSON so a poll can come from another node: a load balancer is not
 * sticky, and the handle names the node that owns the feed.
 */
public final class RouterCore {

  /** Subscribing this router to an environment's change records. */
  public interface Subscriptions {
    /** Completes once records published anywhere in the cluster reach this router. */
    Future<Void> subscribe(String envId);

    void unsubscribe(String envId);
  }

  private final String nodeId;
  private final int index;
  private final RouterSettings settings;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final RunSource source;
  private final LagView lag;
  private final RouterMetrics metrics;
  private final Subscriptions subscriptions;

  private final Map<String, EnvRouter> envs = new HashMap<>();
  private final Map<String, Shape> shapes = new HashMap<>();
  private long serial;
  private int held;

  public RouterCore(String nodeId, int index, RouterSettings settings, LongSupplier clock, Scheduler scheduler,
      RunSource source, LagView lag, RouterMetrics metrics, Subscriptions subscriptions) {
    this.nodeId = nodeId;
    this.index = index;
    this.settings = settings;
    this.clock = clock;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.metrics = metrics;
    this.subscriptions = subscriptions;
  }

  // --- requests ----------------------------------------------------------------------------------

  /** {@code {envId, filter, skip}} → {@code {handle, seq, messages, newest, completed}}: the snapshot. */
  public void open(JsonObject request, PollReply reply) {
    String envId = request.getString("envId");
    FeedFilter filter = FeedFilter.fromJson(request.getJsonObject("filter"));
    Set<RunColumn> columns = RunColumn.selecting(request.getJsonArray("skip", new JsonArray()).stream().map(Object::toString).toList());
    long now = clock.getAsLong();
    EnvRouter env = env(envId);
    ShapeHandle handle = new ShapeHandle(nodeId, index, Long.toString(++serial, 36) + "-" + Ids.random("abcdefghijkmnopqrstuvwxyz0123456789", 6));
    Shape shape = new Shape(handle, envId, filter, columns, settings.logRetention(), now);
    shapes.put(handle.toString(), shape);
    env.register(shape);
    lag.touch();
    env.subscription.compose(v -> snapshot(env, shape)).onComplete(ar -> {
      if (ar.succeeded()) {
        reply.reply(ar.result().put("handle", handle.toString()));
      } else {
        drop(shape);
        fail(reply, ar.cause());
      }
    });
  }

  private Future<JsonObject> snapshot(EnvRouter env, Shape shape) {
    long readStartedAt = clock.getAsLong();
    return env.readFeed(shape).compose(rows -> {
      if (!rows.isEmpty()) {
        return Future.succeededFuture(rows);
      }
      if (shape.filter instanceof FeedFilter.Run run) {
        // Missing on the replica: unknown, or created a moment ago and not applied there yet.
        return source.primaryRunVersion(env.envId, run.runId()).map(version -> {
          if (version == null) {
            throw FreshetException.notFound("run " + run.runId() + " not found");
          }
          env.expect(run.runId(), version);
          return rows;
        });
      }
      if (shape.filter instanceof FeedFilter.Batch batch) {
        return source.batchExists(env.envId, batch.batchId()).map(exists -> {
          if (!exists) {
            throw FreshetException.notFound("batch " + batch.batchId() + " not found");
          }
          return rows;
        });
      }
      return Future.succeededFuture(rows);
    }).map(rows -> {
      long now = clock.getAsLong();
      shape.opened = true;
      JsonObject body = shape.emit(Map.of(), rows, now);
      // The snapshot came from a replica that may lag: changes that reached this environment just
      // before the feed registered go through the gate again, so their fresh rows follow.
      env.replayFor(shape, readStartedAt - settings.replayWindowMs());
      if (env.subscribedAtMs >= 0 && now - env.subscribedAtMs < settings.replayWindowMs()) {
        // Records from before the subscription are not in the replay buffer: re-read once the
        // replica has applied everything committed before it.
        scheduler.schedule(lag.lagMs() + settings.marginMs(), () -> reread(env, shape));
      }
      return body;
    });
  }

  private void reread(EnvRouter env, Shape shape) {
    if (!shapes.containsKey(shape.handle.toString())) {
      return;
    }
    env.readFeed(shape).onSuccess(rows -> {
      boolean any = false;
      for (RunRow row : rows) {
        any |= shape.offer(row);
      }
      if (any) {
        onPending(shape);
      }
    });
  }

  /** {@code {handle, offset, live, holdMs, pollId}} → {@code {seq, messages, newest, completed}}. */
  public void poll(JsonObject request, PollReply reply) {
    Shape shape = shapes.get(request.getString("handle"));
    if (shape == null || !shape.opened) {
      reply.fail(409, "handle is no longer known; refetch");
      return;
    }
    // A handle is only good for the environment and the feed it was opened for: never let a
    // caller read another environment's rows, or another feed than its URL (and token) names.
    JsonObject filter = request.getJsonObject("filter");
    if (!shape.envId.equals(request.getString("envId"))
        || filter == null || !shape.filter.sameFeedAs(FeedFilter.fromJson(filter))) {
      reply.fail(409, "handle does not belong to this feed; refetch");
      return;
    }
    long offset = request.getLong("offset");
    boolean live = request.getBoolean("live", false);
    long now = clock.getAsLong();
    shape.lastActivityMs = now;
    if (offset > shape.log.seq()) {
      reply.fail(400, "offset " + offset + "_0 is ahead of this handle");
      return;
    }
    if (!shape.log.canResumeFrom(offset)) {
      reply.fail(409, "offset " + offset + "_0 is too old for this handle; refetch");
      return;
    }
    release(shape, "superseded");
    EnvRouter env = envs.get(shape.envId);
    lag.touch();
    if (offset < shape.log.seq()) {
      // The client missed emissions (a cut SSE stream, a lost response): re-read what it missed.
      Map<String, Long> view = new HashMap<>(shape.log.at(offset));
      Set<String> missed = new HashSet<>(shape.log.changedSince(offset));
      missed.removeAll(shape.pending.keySet());
      env.readRuns(missed).onComplete(ar -> {
        if (ar.failed()) {
          fail(reply, ar.cause());
        } else {
          reply.reply(shape.emit(view, ar.result(), clock.getAsLong()));
        }
      });
      return;
    }
    if (shape.hasPending()) {
      reply.reply(shape.emit(shape.log.at(offset), List.of(), now));
      return;
    }
    if (!live) {
      reply.reply(Shape.unchanged(offset));
      return;
    }
    String pollId = request.getString("pollId", "");
    long holdMs = Math.max(1, request.getLong("holdMs", settings.livePollTimeoutMs()));
    long timer = scheduler.schedule(holdMs, () -> holdEnded(shape, pollId));
    shape.waiting = new Shape.Waiting(pollId, reply, offset, timer);
    held++;
  }

  /** The client went away: release its held poll. */
  public void cancel(JsonObject request) {
    Shape shape = shapes.get(request.getString("handle", ""));
    if (shape != null && shape.waiting != null && shape.waiting.pollId().equals(request.getString("pollId"))) {
      release(shape, "cancelled");
    }
  }

  public void onRecord(ChangeRecord record) {
    EnvRouter env = envs.get(record.envId());
    if (env != null) {
      env.onRecord(record);
    }
  }

  /** Drops feeds nobody has polled for the idle TTL; call periodically. */
  public void sweep() {
    long now = clock.getAsLong();
    for (Shape shape : new ArrayList<>(shapes.values())) {
      if (shape.waiting == null && now - shape.lastActivityMs > settings.shapeIdleTtlMs()) {
        drop(shape);
      }
    }
  }

  public int feeds() {
    return shapes.size();
  }

  public int heldPolls() {
    return held;
  }

  public int environments() {
    return envs.size();
  }

  // --- internals ---------------------------------------------------------------------------------

  private EnvRouter env(String envId) {
    EnvRouter env = envs.get(envId);
    if (env == null) {
      EnvRouter created = new EnvRouter(envId, settings, clock, scheduler, source, lag, metrics, this::onPending);
      created.subscription = subscriptions.subscribe(envId).onSuccess(v -> created.subscribedAtMs = clock.getAsLong());
      created.subscription.onFailure(e -> {
        if (envs.get(envId) == created) {
          envs.remove(envId);
        }
      });
      envs.put(envId, created);
      env = created;
    }
    if (env.lingerTimer >= 0) {
      scheduler.cancel(env.lingerTimer);
      env.lingerTimer = -1;
    }
    return env;
  }

  /** Rows arrived for a feed: answer its held poll, if any. */
  private void onPending(Shape shape) {
    Shape.Waiting waiting = shape.waiting;
    if (waiting == null || !shape.hasPending()) {
      return;
    }
    scheduler.cancel(waiting.timerId());
    shape.waiting = null;
    held--;
    long now = clock.getAsLong();
    JsonObject body = shape.emit(shape.log.at(waiting.offset()), List.of(), now);
    if (body.getLong("newest") > 0) {
      metrics.deliveryLag(now - body.getLong("newest"));
    }
    metrics.livePoll("delivered");
    waiting.reply().reply(body);
  }

  private void holdEnded(Shape shape, String pollId) {
    if (shape.waiting == null || !shape.waiting.pollId().equals(pollId)) {
      return;
    }
    EnvRouter env = envs.get(shape.envId);
    // Backstop: the terminal net for a dropped record or an echo that ran out.
    env.readFeed(shape).onComplete(ar -> {
      if (shape.waiting == null || !shape.waiting.pollId().equals(pollId)) {
        return;
      }
      if (ar.succeeded()) {
        for (RunRow row : ar.result()) {
          shape.offer(row);
        }
      }
      if (shape.hasPending()) {
        metrics.livePoll("backstop-delivered");
        Shape.Waiting waiting = shape.waiting;
        shape.waiting = null;
        held--;
        waiting.reply().reply(shape.emit(shape.log.at(waiting.offset()), List.of(), clock.getAsLong()));
      } else {
        metrics.livePoll("timeout");
        release(shape, null);
      }
    });
  }

  private void release(Shape shape, String outcome) {
    Shape.Waiting waiting = shape.waiting;
    if (waiting == null) {
      return;
    }
    scheduler.cancel(waiting.timerId());
    shape.waiting = null;
    held--;
    if (outcome != null) {
      metrics.livePoll(outcome);
    }
    waiting.reply().reply(Shape.unchanged(waiting.offset()));
  }

  private void drop(Shape shape) {
    release(shape, "dropped");
    shapes.remove(shape.handle.toString());
    EnvRouter env = envs.get(shape.envId);
    if (env == null) {
      return;
    }
    env.unregister(shape);
    if (env.isEmpty() && env.lingerTimer < 0) {
      env.lingerTimer = scheduler.schedule(settings.lingerMs(), () -> {
        env.lingerTimer = -1;
        if (env.isEmpty() && envs.get(env.envId) == env) {
          envs.remove(env.envId);
          subscriptions.unsubscribe(env.envId);
        }
      });
    }
  }

  private static void fail(PollReply reply, Throwable cause) {
    if (cause instanceof FreshetException fe) {
      reply.fail(fe.status(), fe.getMessage());
    } else {
      reply.fail(503, "feed read failed: " + cause.getMessage());
    }
  }
}
