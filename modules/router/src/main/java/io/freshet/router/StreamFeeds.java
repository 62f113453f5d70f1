package io.freshet.router;

import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamProtocol.Caught;
import io.freshet.core.stream.StreamProtocol.Push;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The streams a node follows for its readers, one {@link StreamLog} each, shared by every reader
 * on the node: a stream read by 5,000 browsers is read from the replica once per round.
 *
 * <p>Chunks go through the same read-your-writes machinery as run rows. An announcement says the
 * primary committed a stream up to seq N at time W; the log's read waits until W is older than the
 * replica-lag estimate ({@link ReplicaLagGate}). The tripwire is the seq: a read that stops short
 * of N ran before the replica applied that commit, and what it did return is still safe to
 * deliver, because a stream's seq order is its commit order (the replica that has seq k has every
 * chunk before it). The rest waits for a retry planned by {@link SettlePolicy}, what the stale read
 * proved widens the estimate, and past {@code gate.freshWithinMs} the chunks are read from the
 * primary within the node's fallback budget. Nothing is ever skipped: a reader's position only
 * moves through chunks delivered in order.
 *
 * <p>Reads are batched: logs due together share one query ({@link StreamSource#read}), at most
 * {@link #READS_IN_FLIGHT} at once, and each round's growth reaches each web edge instance as one
 * message.
 */
public final class StreamFeeds {

  /** Subscribing the node to an environment's stream announcements. */
  public interface Subscriptions {
    Future<Void> subscribe(String envId);

    void unsubscribe(String envId);
  }

  /** Sends a web edge instance one round's pushes. */
  public interface Pusher {
    void push(String sink, List<Push> pushes);
  }

  /** How a watch is answered. */
  public interface WatchReply {
    void caught(Caught caught);

    void fail(int status, String message);
  }

  record Waiter(long afterSeq, String sink, WatchReply reply) {}

  static final int READS_IN_FLIGHT = 2;
  /** Shortest time between the starts of two read rounds. */
  static final long READ_EVERY_MS = 5;
  static final int STREAMS_PER_READ = 500;
  /** Chunks of one stream per read; a stream further behind is read again at once. */
  static final int CHUNKS_PER_READ = 1000;
  /** A log nobody watches is dropped after this long. */
  static final long IDLE_TTL_MS = 30_000;
  /**
   * A watched stream's state is checked on the primary this often: the backstop for a lost
   * announcement (a node that was cut off from the cluster for a moment), as the backstop poll is
   * for a lost change record.
   */
  static final long BACKSTOP_MS = 20_000;

  private final RouterSettings settings;
  private final SettlePolicy policy;
  private final ReplicaLagGate gate;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final StreamSource source;
  private final LagView lag;
  private final PrimaryFallbackBudget budget;
  private final StreamMetrics metrics;
  private final Subscriptions subscriptions;
  private final Pusher pusher;
  private final int tailChunks;

  private final Map<StreamRef, StreamLog> logs = new HashMap<>();
  private final Map<String, Integer> logsPerEnv = new HashMap<>();
  private final Map<String, Future<Void>> subscribed = new HashMap<>();
  private final ArrayDeque<StreamLog> due = new ArrayDeque<>();
  /** Logs whose next read waits for a time, earliest first; one timer wakes the earliest. */
  private final java.util.PriorityQueue<StreamLog> waiting =
      new java.util.PriorityQueue<>(java.util.Comparator.comparingLong((StreamLog l) -> l.dueAtMs));
  private long wakeTimer = -1;
  private long wakeAtMs = Long.MAX_VALUE;
  private final Map<String, List<Push>> outbox = new LinkedHashMap<>();
  private int readsInFlight;
  private long lastReadAtMs = Long.MIN_VALUE / 2;
  private long pumpTimer = -1;

  public StreamFeeds(RouterSettings settings, LongSupplier clock, Scheduler scheduler, StreamSource source, LagView lag,
      PrimaryFallbackBudget budget, StreamMetrics metrics, Subscriptions subscriptions, Pusher pusher, int tailChunks) {
    this.settings = settings;
    this.policy = settings.policy();
    this.gate = settings.gate();
    this.clock = clock;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.budget = budget;
    this.metrics = metrics;
    this.subscriptions = subscriptions;
    this.pusher = pusher;
    this.tailChunks = tailChunks;
    lag.listen(new LagView.Listener() {
      @Override
      public void estimateChanged(long lagMs) {}

      @Override
      public void replicaProgressed(Long replayedAtMs) {
        // A stale log waits for its retry timer; the replica having replayed past the commit the
        // stale read needed is reason to read now.
        for (StreamLog log : logs.values()) {
          long needed = log.readTarget != null ? log.readTarget.watermarkMs() : log.knownAtMs;
          if (log.attempts > 0 && log.scheduled && (replayedAtMs == null || replayedAtMs >= needed)) {
            waiting.remove(log);
            log.scheduled = false;
            enqueue(log);
          }
        }
        pump();
      }
    });
  }

  public int logs() {
    return logs.size();
  }

  public int watchingSinks() {
    return logs.values().stream().mapToInt(l -> l.sinks.size()).sum();
  }

  // --- watches -----------------------------------------------------------------------------------

  /** A web edge instance's reader wants {@code stream} after {@code afterSeq}; its sink gets every later chunk. */
  public void watch(StreamRef stream, long afterSeq, String sink, WatchReply reply) {
    lag.touch();
    StreamLog log = logs.get(stream);
    if (log == null) {
      log = new StreamLog(stream, afterSeq, tailChunks, clock.getAsLong());
      logs.put(stream, log);
      logsPerEnv.merge(stream.envId(), 1, Integer::sum);
      log.waiting.add(new Waiter(afterSeq, sink, reply));
      open(log);
    } else if (log.state == StreamLog.State.OPENING) {
      log.waiting.add(new Waiter(afterSeq, sink, reply));
    } else {
      answer(log, afterSeq, sink, reply);
    }
  }

  public void unwatch(StreamRef stream, String sink) {
    StreamLog log = logs.get(stream);
    if (log != null && log.sinks.remove(sink) && log.sinks.isEmpty()) {
      log.idleSinceMs = clock.getAsLong();
    }
  }

  /**
   * Subscribes first, then reads the stream's state on the primary: whatever commits after that
   * read is announced to this node, so nothing falls between the two.
   */
  private void open(StreamLog log) {
    StreamRef ref = log.ref;
    subscription(ref.envId()).compose(v -> source.primaryState(ref)).onComplete(ar -> {
      if (logs.get(ref) != log) {
        return;
      }
      String refusal = ar.failed() ? null : refusal(ref, ar.result());
      if (ar.failed() || refusal != null) {
        int status = ar.failed()
            ? io.freshet.store.DatabaseErrors.classify(ar.cause()).map(FreshetException::status).orElse(503) : 404;
        String message = ar.failed() ? "cannot read stream " + ref + ": " + ar.cause().getMessage() : refusal;
        log.waiting.forEach(w -> w.reply().fail(status, message));
        drop(log);
        return;
      }
      StreamSource.StreamState state = ar.result();
      long now = clock.getAsLong();
      log.committed(state.lastSeq(), state.appendedAtMs() == null ? now : state.appendedAtMs(), now);
      if (state.closed() || state.runEnded()) {
        log.finalSeq = Math.max(log.known, state.lastSeq());
      }
      log.state = StreamLog.State.OPEN;
      log.checkedAtMs = now;
      for (Waiter w : log.waiting) {
        answer(log, w.afterSeq(), w.sink(), w.reply());
      }
      log.waiting.clear();
      plan(log);
      pump();
      flush();
    });
  }

  private static String refusal(StreamRef ref, StreamSource.StreamState state) {
    if (state == null) {
      return "Run " + ref.runId() + " not found";
    }
    if (!state.exists() && state.runEnded()) {
      return "run " + ref.runId() + " ended without a stream '" + ref.key() + "'";
    }
    return null;
  }

  /** Registers the sink and answers with what the reader missed: from the tail, else from the replica. */
  private void answer(StreamLog log, long afterSeq, String sink, WatchReply reply) {
    log.sinks.add(sink);
    if (afterSeq >= log.delivered || log.tailCovers(afterSeq)) {
      reply.caught(new Caught(log.after(afterSeq), log.complete(), false));
      return;
    }
    // Before the tail: these chunks were delivered here, so the replica has them (unless they came
    // from the primary fallback and it still lags: then they are read there).
    long until = log.tailFirst() - 1;
    StreamSource.ChunkRead read = new StreamSource.ChunkRead(log.ref, afterSeq, CHUNKS_PER_READ);
    source.read(List.of(read), false).compose(found -> {
      List<StreamChunk> chunks = found.get(0);
      boolean short_ = chunks.size() < CHUNKS_PER_READ && (chunks.isEmpty() || chunks.get(chunks.size() - 1).seq() < until);
      return short_ ? source.read(List.of(read), true).map(p -> p.get(0)) : Future.succeededFuture(chunks);
    }).onComplete(ar -> {
      if (ar.failed()) {
        reply.fail(503, "cannot read stream " + log.ref + ": " + ar.cause().getMessage());
      } else {
        reply.caught(new Caught(ar.result(), false, true));
      }
    });
  }

  // --- announcements -----------------------------------------------------------------------------

  public void onAnnouncement(StreamAnnouncement announcement) {
    for (StreamAnnouncement.Item item : announcement.items()) {
      StreamLog log = logs.get(new StreamRef(announcement.envId(), item.runId(), item.key()));
      if (log == null) {
        continue;
      }
      log.committed(item.lastSeq(), item.atMs(), clock.getAsLong());
      if (item.closed()) {
        log.finalSeq = Math.max(item.lastSeq(), log.finalSeq == null ? -1 : log.finalSeq);
      }
      plan(log);
    }
    if (!announcement.endedRuns().isEmpty()) {
      for (StreamLog log : logs.values()) {
        if (log.ref.envId().equals(announcement.envId()) && announcement.endedRuns().contains(log.ref.runId()) && log.finalSeq == null) {
          log.finalSeq = log.known;
          plan(log);
        }
      }
    }
    pump();
    flush();
  }

  // --- reads -------------------------------------------------------------------------------------

  /** Schedules the log's next read, if it needs one and none is pending; pushes its completion. */
  private void plan(StreamLog log) {
    if (log.state != StreamLog.State.OPEN) {
      return;
    }
    if (!log.behind()) {
      if (log.complete() && !log.completeSent) {
        log.completeSent = true;
        pushAll(log, List.of(), true);
      }
      return;
    }
    if (log.queued || log.scheduled) {
      return;
    }
    long now = clock.getAsLong();
    StreamLog.Mark next = log.nextMark();
    long at = log.attempts > 0 ? log.dueAtMs : next == null ? now : dueAt(next);
    schedule(log, at, now);
  }

  /** The gate's time for one commit: its watermark plus the lag estimate and margin. */
  private long dueAt(StreamLog.Mark mark) {
    return gate.dueAt(mark.watermarkMs(), mark.arrivedAtMs(), lag.lagMs());
  }

  private void schedule(StreamLog log, long at, long now) {
    log.dueAtMs = at;
    if (at <= now) {
      enqueue(log);
      return;
    }
    log.scheduled = true;
    waiting.add(log);
    arm(now);
  }

  /** Keeps one timer, for the earliest waiting log. */
  private void arm(long now) {
    StreamLog first = waiting.peek();
    if (first == null) {
      scheduler.cancel(wakeTimer);
      wakeTimer = -1;
      wakeAtMs = Long.MAX_VALUE;
      return;
    }
    if (wakeTimer >= 0 && wakeAtMs <= first.dueAtMs) {
      return;
    }
    scheduler.cancel(wakeTimer);
    wakeAtMs = first.dueAtMs;
    wakeTimer = scheduler.schedule(Math.max(0, first.dueAtMs - now), this::wake);
  }

  /** Every log due now, or within {@code router.coalesceMs}, joins the next read. */
  private void wake() {
    wakeTimer = -1;
    wakeAtMs = Long.MAX_VALUE;
    long now = clock.getAsLong();
    while (!waiting.isEmpty() && waiting.peek().dueAtMs <= now + settings.coalesceMs()) {
      StreamLog log = waiting.poll();
      log.scheduled = false;
      enqueue(log);
    }
    pump();
    arm(now);
  }

  /** Queues the log for the next read round; the caller pumps. */
  private void enqueue(StreamLog log) {
    if (!log.queued && logs.get(log.ref) == log) {
      log.queued = true;
      due.add(log);
    }
  }

  private void pump() {
    long now = clock.getAsLong();
    if (!due.isEmpty() && readsInFlight < READS_IN_FLIGHT && now - lastReadAtMs < READ_EVERY_MS) {
      // Rounds start at most every READ_EVERY_MS: what falls due meanwhile joins the next one, so a
      // thousand streams with a commit every few ms cost a bounded number of queries.
      if (pumpTimer < 0) {
        pumpTimer = scheduler.schedule(lastReadAtMs + READ_EVERY_MS - now, () -> {
          pumpTimer = -1;
          pump();
          flush();
        });
      }
      return;
    }
    while (readsInFlight < READS_IN_FLIGHT && !due.isEmpty()) {
      lastReadAtMs = now;
      List<StreamLog> replica = new ArrayList<>();
      List<StreamLog> primary = new ArrayList<>();
      while (!due.isEmpty() && replica.size() + primary.size() < STREAMS_PER_READ) {
        StreamLog log = due.poll();
        (log.fromPrimary ? primary : replica).add(log);
      }
      if (!replica.isEmpty()) {
        read(replica, false);
      }
      if (!primary.isEmpty()) {
        read(primary, true);
      }
    }
  }

  private void read(List<StreamLog> batch, boolean fromPrimary) {
    readsInFlight++;
    long readAt = clock.getAsLong();
    List<StreamSource.ChunkRead> reads = new ArrayList<>(batch.size());
    for (StreamLog log : batch) {
      reads.add(new StreamSource.ChunkRead(log.ref, log.delivered, CHUNKS_PER_READ));
      StreamLog.Mark due = log.dueBy(readAt + settings.coalesceMs(), this::dueAt);
      log.readTarget = due != null ? due : log.readTarget != null && log.readTarget.seq() > log.delivered ? log.readTarget : log.nextMark();
    }
    metrics.read(fromPrimary ? "primary" : "replica", batch.size());
    source.read(reads, fromPrimary).onComplete(ar -> {
      readsInFlight--;
      for (int i = 0; i < batch.size(); i++) {
        StreamLog log = batch.get(i);
        log.queued = false;
        log.fromPrimary = false;
        if (logs.get(log.ref) != log) {
          continue;
        }
        settle(log, ar.succeeded() ? ar.result().get(i) : null, readAt, fromPrimary);
      }
      flush();
      pump();
    });
  }

  /**
   * A read of {@code log} came back ({@code chunks} null: it failed): delivers what it returned,
   * and plans the next read when the primary has more.
   */
  private void settle(StreamLog log, List<StreamChunk> chunks, long readAt, boolean fromPrimary) {
    long now = clock.getAsLong();
    boolean paged = chunks != null && chunks.size() >= CHUNKS_PER_READ;
    if (chunks != null) {
      List<StreamChunk> fresh = log.take(chunks);
      for (StreamChunk chunk : fresh) {
        metrics.delivered(now - chunk.atMs());
      }
      if (!fresh.isEmpty() || (log.complete() && !log.completeSent)) {
        log.completeSent = log.complete();
        pushAll(log, fresh, log.complete());
      }
    }
    StreamLog.Mark target = log.readTarget;
    if (target == null || log.delivered >= target.seq() || paged) {
      if (log.attempts > 0) {
        metrics.stale(fromPrimary ? "primary" : "recovered");
      }
      log.attempts = 0;
      log.observedMs = 0;
      log.readTarget = null;
      if (paged) {
        enqueue(log);
      } else {
        plan(log);
      }
      return;
    }
    // The tripwire: the read stopped short of a commit whose gate time had come.
    log.attempts++;
    log.observedMs = Math.max(log.observedMs, readAt - target.watermarkMs());
    if (chunks != null && !fromPrimary) {
      lag.observed(log.observedMs);
    }
    SettlePolicy.Plan next = policy.retry(target.watermarkMs(), log.observedMs, null, lag.lagMs(),
        now + policy.minRetryDelayMs(), log.attempts, chunks == null);
    if (next.watching()) {
      // Retries ran out with the fallback off: what the replica had is delivered; keep reading it
      // at the longest delay until it catches up.
      metrics.stale(log.attempts == settings.staleRetries() + 1 ? "gave_up" : "watched");
      schedule(log, now + settings.maxDelayMs(), now);
      return;
    }
    if (next.source() == SettlePolicy.Source.PRIMARY) {
      if (budget.acquire(1) == 1) {
        log.fromPrimary = true;
      } else {
        metrics.fallbackRefused();
      }
    }
    schedule(log, Math.max(next.atMs(), now), now);
  }

  private void pushAll(StreamLog log, List<StreamChunk> chunks, boolean complete) {
    Push push = new Push(log.ref, chunks, complete);
    for (String sink : log.sinks) {
      outbox.computeIfAbsent(sink, s -> new ArrayList<>()).add(push);
    }
  }

  private void flush() {
    if (outbox.isEmpty()) {
      return;
    }
    outbox.forEach(pusher::push);
    outbox.clear();
  }

  // --- housekeeping ------------------------------------------------------------------------------

  /**
   * Every second: keeps the lag sampler sampling while streams are watched, checks long-watched
   * streams on the primary (the backstop), and drops logs nobody watched for {@link #IDLE_TTL_MS}.
   */
  public void tick() {
    long now = clock.getAsLong();
    boolean watched = false;
    for (Iterator<StreamLog> it = logs.values().iterator(); it.hasNext(); ) {
      StreamLog log = it.next();
      if (log.state != StreamLog.State.OPEN) {
        continue;
      }
      if (!log.sinks.isEmpty()) {
        watched = true;
        if (now - log.checkedAtMs >= BACKSTOP_MS && !log.complete()) {
          log.checkedAtMs = now;
          backstop(log);
        }
      } else if (now - log.idleSinceMs >= IDLE_TTL_MS) {
        it.remove();
        forget(log);
      }
    }
    if (watched) {
      lag.touch();
    }
  }

  private void backstop(StreamLog log) {
    source.primaryState(log.ref).onSuccess(state -> {
      if (state == null || logs.get(log.ref) != log) {
        return;
      }
      long now = clock.getAsLong();
      log.committed(state.lastSeq(), state.appendedAtMs() == null ? now : state.appendedAtMs(), now);
      if ((state.closed() || state.runEnded()) && log.finalSeq == null) {
        log.finalSeq = Math.max(log.known, state.lastSeq());
      }
      plan(log);
      pump();
      flush();
    });
  }

  private void drop(StreamLog log) {
    if (logs.remove(log.ref, log)) {
      forget(log);
    }
  }

  private void forget(StreamLog log) {
    if (log.scheduled) {
      waiting.remove(log);
      log.scheduled = false;
    }
    due.remove(log);
    String env = log.ref.envId();
    if (logsPerEnv.merge(env, -1, Integer::sum) <= 0) {
      logsPerEnv.remove(env);
      subscribed.remove(env);
      subscriptions.unsubscribe(env);
    }
  }

  private Future<Void> subscription(String envId) {
    return subscribed.computeIfAbsent(envId, subscriptions::subscribe);
  }
}
