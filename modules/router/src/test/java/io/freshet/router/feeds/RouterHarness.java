package io.freshet.router.feeds;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.FakeScheduler;
import io.freshet.router.RouterSettings;
import io.freshet.router.engine.GateMode;
import io.freshet.router.engine.FakeLag;
import io.freshet.router.engine.FakeSubscriptions;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.core.PgText;
import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.producer.ChangeRecord;
import io.freshet.store.RunReads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A router's feed service on a fake clock, fake timers and a scriptable replica and primary: timing logic in microseconds. */
final class RouterHarness {

  static final String ENV = "env_1";

  /** The replica and the primary as the router reads them; tests change rows to simulate apply. */
  static final class FakeDatabase implements RunSource {
    /** What the replica has applied. */
    final Map<String, RunRow> rows = new HashMap<>();
    /** What the primary has (every row a test applies or commits). */
    final Map<String, RunRow> primaryRows = new HashMap<>();
    final List<List<String>> hydrates = new ArrayList<>();
    final List<List<String>> primaryReads = new ArrayList<>();
    final List<FeedFilter> resolves = new ArrayList<>();
    /** The next hydrates that fail, as an unreachable replica's do. */
    int failures;
    /** Every replica read fails while set (the standby is down). */
    boolean replicaDown;
    /** The commit time of the last transaction the replica replayed; null when unknown. */
    Long replayedAtMs;
    /** When each hydrate was sent, on the harness's clock. */
    final List<Long> hydrateTimes = new ArrayList<>();
    java.util.function.LongSupplier clock;

    @Override
    public Future<RunReads.Hydration> byIds(String envId, Collection<String> runIds) {
      hydrates.add(List.copyOf(runIds));
      if (clock != null) {
        hydrateTimes.add(clock.getAsLong());
      }
      if (replicaDown || failures > 0) {
        failures = Math.max(0, failures - 1);
        return Future.failedFuture(new IllegalStateException("replica down"));
      }
      return Future.succeededFuture(new RunReads.Hydration(pick(rows, runIds), replayedAtMs));
    }

    @Override
    public Future<RunReads.Hydration> primaryByIds(String envId, Collection<String> runIds) {
      primaryReads.add(List.copyOf(runIds));
      return Future.succeededFuture(new RunReads.Hydration(pick(primaryRows, runIds), null));
    }

    private static List<RunRow> pick(Map<String, RunRow> from, Collection<String> runIds) {
      List<RunRow> out = new ArrayList<>();
      for (String id : runIds) {
        if (from.containsKey(id)) {
          out.add(from.get(id));
        }
      }
      return out;
    }

    @Override
    public Future<List<RunRow>> resolve(String envId, FeedFilter filter, int limit) {
      resolves.add(filter);
      if (replicaDown) {
        return Future.failedFuture(new IllegalStateException("replica down"));
      }
      return Future.succeededFuture(rows.values().stream().filter(filter::matches).toList());
    }

    @Override
    public Future<List<RunRow>> resolvePrimary(String envId, FeedFilter filter, int limit) {
      primaryReads.add(List.of("resolve"));
      return Future.succeededFuture(primaryRows.values().stream().filter(filter::matches).toList());
    }

    @Override
    public Future<Long> primaryRunVersion(String envId, String runId) {
      RunRow row = primaryRows.get(runId);
      return Future.succeededFuture(row == null ? null : row.updatedAtMs());
    }

    @Override
    public Future<Map<String, Long>> primaryRunVersions(String envId, Collection<String> runIds) {
      Map<String, Long> out = new HashMap<>();
      for (String id : runIds) {
        if (primaryRows.containsKey(id)) {
          out.put(id, primaryRows.get(id).updatedAtMs());
        }
      }
      return Future.succeededFuture(out);
    }

    @Override
    public Future<Boolean> batchExists(String envId, String batchId) {
      return Future.succeededFuture(true);
    }
  }

  /** Answers a request got, in order. */
  static final class Replies implements PollReply {
    final List<LogSlice> slices = new ArrayList<>();
    final List<String> handles = new ArrayList<>();
    final List<Integer> failures = new ArrayList<>();

    @Override
    public void answer(String handle, LogSlice slice) {
      handles.add(handle);
      slices.add(slice);
    }

    @Override
    public void fail(int status, String message) {
      failures.add(status);
    }

    LogSlice last() {
      return slices.get(slices.size() - 1);
    }

    /** The metadata values delivered in the last answer, in order. */
    List<String> lastMetadata() {
      return metadata(last());
    }
  }

  static List<String> metadata(LogSlice slice) {
    List<String> out = new ArrayList<>();
    for (String m : slice.messages()) {
      JsonObject value = new JsonObject(m).getJsonObject("value");
      out.add(value.getString("metadata"));
    }
    return out;
  }

  final FakeScheduler scheduler = new FakeScheduler(1_000_000);
  final FakeDatabase db = new FakeDatabase();
  final FakeLag lag = new FakeLag();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final FakeSubscriptions subscriptions = new FakeSubscriptions();
  final Set<String> subscribed = subscriptions.subscribed;
  /** Pushes sent to sinks, in order: sink → each push message's pushes. */
  final Map<String, List<List<PushProtocol.Push>>> pushed = new HashMap<>();
  final FeedRouter feeds;
  final RouterSettings settings;

  RouterHarness(JsonObject overrides) {
    db.clock = scheduler::nowMs;
    FreshetConfig config = FreshetConfig.defaults().with(new JsonObject()
        .put("gate.marginMs", 0).put("lag.defaultMs", 0).put("router.coalesceMs", 0).put("router.replayWindowMs", 2000)
        .put("router.livePollJitter", 0)
        .mergeIn(overrides));
    settings = RouterSettings.from(config);
    PrimaryFallbackBudget budget = new PrimaryFallbackBudget(
        settings.mode() == GateMode.GATED ? settings.primaryFallbackPerSec() : 0, scheduler);
    feeds = new FeedRouter("node1", 0, settings, scheduler, db, lag, new RouterMetrics(registry), budget,
        subscriptions, (sink, pushes) -> pushed.computeIfAbsent(sink, k -> new ArrayList<>()).add(pushes.pushes()));
    tickEverySecond();
  }

  RouterHarness() {
    this(new JsonObject());
  }

  /** The router verticle's periodic calls: tick every second, sweep every five. */
  private void tickEverySecond() {
    scheduler.every(1000, feeds::tick);
    scheduler.every(5000, feeds::sweep);
  }

  /** Now, on the fake clock. */
  long clock() {
    return scheduler.nowMs();
  }

  static RunRow row(String runId, long updatedAtMs, List<String> tags, String batchId, String metadata, long createdAtMs) {
    return row(runId, updatedAtMs, tags, batchId, metadata, createdAtMs, "EXECUTING");
  }

  static RunRow row(String runId, long updatedAtMs, List<String> tags, String batchId, String metadata, long createdAtMs, String status) {
    String[] text = new String[RunColumn.values().length];
    text[RunColumn.ID.ordinal()] = "internal_" + runId;
    text[RunColumn.FRIENDLY_ID.ordinal()] = runId;
    text[RunColumn.TASK_IDENTIFIER.ordinal()] = "task";
    text[RunColumn.STATUS.ordinal()] = status;
    text[RunColumn.CREATED_AT.ordinal()] = PgText.timestamp(Instant.ofEpochMilli(createdAtMs));
    text[RunColumn.UPDATED_AT.ordinal()] = PgText.timestamp(Instant.ofEpochMilli(updatedAtMs));
    text[RunColumn.METADATA.ordinal()] = metadata;
    text[RunColumn.RUN_TAGS.ordinal()] = PgText.array(tags);
    return new RunRow(runId, ENV, batchId, createdAtMs, updatedAtMs, tags, text);
  }

  /** Puts a version of a run on the replica and the primary (committed and applied). */
  RunRow apply(String runId, long updatedAtMs, String metadata, String... tags) {
    RunRow row = row(runId, updatedAtMs, List.of(tags), null, metadata, 0);
    db.rows.put(runId, row);
    db.primaryRows.put(runId, row);
    return row;
  }

  /** Commits a version of a run on the primary only (the replica has not applied it yet). */
  RunRow commit(String runId, long updatedAtMs, String metadata, String... tags) {
    RunRow row = row(runId, updatedAtMs, List.of(tags), null, metadata, 0);
    db.primaryRows.put(runId, row);
    return row;
  }

  void record(String runId, Long watermark, String... tags) {
    feeds.onRecord(new ChangeRecord(ENV, runId, watermark, List.of(tags), null));
  }

  static FeedProtocol.FeedRef ref(FeedFilter filter) {
    return new FeedProtocol.FeedRef(ENV, filter, RunColumn.ALL);
  }

  /** Opens (or joins) a feed and returns its handle; the snapshot reply is in {@code replies}. */
  String open(FeedFilter filter, Replies replies) {
    feeds.open(new FeedProtocol.Open(ref(filter), false), replies);
    scheduler.advance(1); // run reads share a query on the next tick
    String handle = replies.handles.isEmpty() ? null : replies.handles.get(replies.handles.size() - 1);
    if (handle != null) {
      filters.put(handle, filter);
    }
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

  /** The filter each opened handle was opened with, so requests can name it as the web edge does. */
  final Map<String, FeedFilter> filters = new HashMap<>();

  void poll(String handle, long offset, boolean live, Replies replies) {
    feeds.poll(new FeedProtocol.Poll(handle, ref(filters.getOrDefault(handle, runFilter("?"))), offset, live, 20_000, "p" + offset + "-" + replies.hashCode()),
        replies);
  }

  /** An SSE session's follow, answered (or refused) into {@code replies} as the router verticle would. */
  void watch(String handle, long offset, String sink, Replies replies) {
    try {
      PushProtocol.Caught caught = feeds.follow(new PushProtocol.FeedLog(handle, ref(filters.getOrDefault(handle, runFilter("?")))),
          offset, sink);
      replies.answer(handle, (LogSlice) caught.slice());
    } catch (FreshetException e) {
      replies.fail(e.status(), e.getMessage());
    }
  }

  /** The slices pushed to {@code sink} for {@code handle}, in order. */
  List<LogSlice> pushedTo(String sink, String handle) {
    List<LogSlice> out = new ArrayList<>();
    for (List<PushProtocol.Push> message : pushed.getOrDefault(sink, List.of())) {
      for (PushProtocol.Push push : message) {
        if (push.log().equals(handle)) {
          out.add((LogSlice) push.slice());
        }
      }
    }
    return out;
  }

  static FeedFilter runFilter(String runId) {
    return new FeedFilter.Run(runId);
  }

  static FeedFilter tagFilter(long floor, String... tags) {
    return new FeedFilter.Tags(List.of(tags), floor);
  }

  double counter(String name, String tag, String value) {
    var c = registry.find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }
}
