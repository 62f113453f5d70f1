package io.freshet.router;

import io.freshet.core.FreshetConfig;
import io.freshet.core.PgText;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.RunReads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/** A router core on a fake clock, fake timers and a scriptable read side: timing logic in microseconds. */
final class RouterHarness {

  static final String ENV = "env_1";

  /** Timers on a fake clock; {@link #advance} runs what falls due, in order. */
  static final class FakeScheduler implements Scheduler {
    private record Task(long at, long id, Runnable run) {}

    long now = 1_000_000;
    private long nextId = 1;
    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.id, b.id));
    private final Set<Long> cancelled = new HashSet<>();

    @Override
    public long schedule(long delayMs, Runnable task) {
      long id = nextId++;
      tasks.add(new Task(now + Math.max(0, delayMs), id, task));
      return id;
    }

    @Override
    public void cancel(long timerId) {
      cancelled.add(timerId);
    }

    void advance(long ms) {
      long until = now + ms;
      while (!tasks.isEmpty() && tasks.peek().at <= until) {
        Task task = tasks.poll();
        now = Math.max(now, task.at);
        if (!cancelled.remove(task.id)) {
          task.run.run();
        }
      }
      now = until;
    }
  }

  /** The replica as the router reads it; tests change rows to simulate apply. */
  static final class FakeReplica implements RunSource {
    final Map<String, RunRow> rows = new HashMap<>();
    final Map<String, Long> primaryVersions = new HashMap<>();
    final List<List<String>> hydrates = new ArrayList<>();
    final List<FeedFilter> resolves = new ArrayList<>();
    int failures;

    @Override
    public Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds) {
      hydrates.add(List.copyOf(runIds));
      if (failures > 0) {
        failures--;
        return Future.failedFuture(new IllegalStateException("replica down"));
      }
      List<RunRow> out = new ArrayList<>();
      for (String id : runIds) {
        if (rows.containsKey(id)) {
          out.add(rows.get(id));
        }
      }
      return Future.succeededFuture(new RunReads.Hydration(out, replayedAtMs));
    }

    /** The commit time of the last transaction the replica replayed; null when unknown. */
    Long replayedAtMs;

    @Override
    public Future<List<RunRow>> resolve(String envId, FeedFilter filter, int limit) {
      resolves.add(filter);
      return Future.succeededFuture(rows.values().stream().filter(filter::matches).toList());
    }

    @Override
    public Future<Long> primaryRunVersion(String envId, String runId) {
      return Future.succeededFuture(primaryVersions.get(runId));
    }

    @Override
    public Future<Boolean> batchExists(String envId, String batchId) {
      return Future.succeededFuture(true);
    }
  }

  static final class FakeLag implements LagView {
    long lagMs;
    final List<Long> observed = new ArrayList<>();

    @Override
    public long lagMs() {
      return lagMs;
    }

    @Override
    public void observed(long ms) {
      observed.add(ms);
      lagMs = Math.max(lagMs, ms);
    }

    final List<Long> upperBounds = new ArrayList<>();

    @Override
    public void upperBound(long ms) {
      upperBounds.add(ms);
      lagMs = Math.min(lagMs, ms);
    }

    @Override
    public void replayed(long startMs, long endMs, long replayedAtMs) {}

    @Override
    public void touch() {}
  }

  /** Answers a poll got, in order. */
  static final class Replies implements PollReply {
    final List<JsonObject> bodies = new ArrayList<>();
    final List<Integer> failures = new ArrayList<>();

    @Override
    public void reply(JsonObject body) {
      bodies.add(body);
    }

    @Override
    public void fail(int status, String message) {
      failures.add(status);
    }

    JsonObject last() {
      return bodies.get(bodies.size() - 1);
    }

    /** The metadata values delivered in the last answer, in order. */
    List<String> lastMetadata() {
      List<String> out = new ArrayList<>();
      for (Object m : last().getJsonArray("messages")) {
        out.add(new JsonObject((String) m).getJsonObject("value").getString("metadata"));
      }
      return out;
    }
  }

  final FakeScheduler scheduler = new FakeScheduler();
  final FakeReplica replica = new FakeReplica();
  final FakeLag lag = new FakeLag();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final Set<String> subscribed = new HashSet<>();
  final RouterCore core;
  final RouterSettings settings;

  RouterHarness(JsonObject overrides) {
    FreshetConfig config = FreshetConfig.defaults().with(new JsonObject()
        .put("gate.marginMs", 0).put("lag.defaultMs", 0).put("router.coalesceMs", 0).put("router.replayWindowMs", 2000)
        .mergeIn(overrides));
    settings = RouterSettings.from(config);
    core = new RouterCore("node1", 0, settings, () -> scheduler.now, scheduler, replica, lag, new RouterMetrics(registry),
        new RouterCore.Subscriptions() {
          @Override
          public Future<Void> subscribe(String envId) {
            subscribed.add(envId);
            return Future.succeededFuture();
          }

          @Override
          public void unsubscribe(String envId) {
            subscribed.remove(envId);
          }
        });
  }

  RouterHarness() {
    this(new JsonObject());
  }

  static RunRow row(String runId, long updatedAtMs, List<String> tags, String batchId, String metadata, long createdAtMs) {
    String[] text = new String[RunColumn.values().length];
    text[RunColumn.ID.ordinal()] = "internal_" + runId;
    text[RunColumn.FRIENDLY_ID.ordinal()] = runId;
    text[RunColumn.TASK_IDENTIFIER.ordinal()] = "task";
    text[RunColumn.STATUS.ordinal()] = "EXECUTING";
    text[RunColumn.CREATED_AT.ordinal()] = PgText.timestamp(Instant.ofEpochMilli(createdAtMs));
    text[RunColumn.UPDATED_AT.ordinal()] = PgText.timestamp(Instant.ofEpochMilli(updatedAtMs));
    text[RunColumn.METADATA.ordinal()] = metadata;
    text[RunColumn.RUN_TAGS.ordinal()] = PgText.array(tags);
    return new RunRow(runId, ENV, batchId, createdAtMs, updatedAtMs, tags, text);
  }

  /** Puts a version of a run on the fake replica (as if applied). */
  RunRow apply(String runId, long updatedAtMs, String metadata, String... tags) {
    RunRow row = row(runId, updatedAtMs, List.of(tags), null, metadata, 0);
    replica.rows.put(runId, row);
    replica.primaryVersions.put(runId, updatedAtMs);
    return row;
  }

  void record(String runId, Long watermark, String... tags) {
    core.onRecord(new ChangeRecord(ENV, runId, watermark, List.of(tags), null));
  }

  /** Opens a feed and returns its handle; the snapshot reply is in {@code replies}. */
  String open(JsonObject filter, Replies replies) {
    core.open(new JsonObject().put("envId", ENV).put("filter", filter).put("skip", new JsonArray()), replies);
    scheduler.advance(1); // run reads share a query on the next tick
    String handle = replies.last().getString("handle");
    filters.put(handle, filter);
    return handle;
  }

  /** The handle {@link #follow} opened last. */
  String lastHandle;

  /** Opens a feed of {@code runId}, lets {@code settleMs} pass, and holds a live poll at offset 1. */
  Replies follow(String runId, long settleMs) {
    Replies snapshot = new Replies();
    lastHandle = open(runFilter(runId), snapshot);
    scheduler.advance(settleMs);
    Replies live = new Replies();
    poll(lastHandle, 1, true, live);
    return live;
  }

  /** The filter each opened handle was opened with, so polls can name it as the web edge does. */
  final java.util.Map<String, JsonObject> filters = new java.util.HashMap<>();

  void poll(String handle, long offset, boolean live, Replies replies) {
    core.poll(new JsonObject().put("handle", handle).put("offset", offset).put("live", live).put("holdMs", 20_000)
        .put("pollId", "p" + offset).put("envId", ENV).put("filter", filters.getOrDefault(handle, runFilter("?"))), replies);
  }

  static JsonObject runFilter(String runId) {
    return new JsonObject().put("kind", "run").put("runId", runId);
  }

  static JsonObject tagFilter(long floor, String... tags) {
    return new JsonObject().put("kind", "tags").put("tags", new JsonArray(List.of(tags))).put("createdAtFloorMs", floor);
  }

  double counter(String name, String tag, String value) {
    var c = registry.find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }
}
