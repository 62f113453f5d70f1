package io.freshet.router.streams;

import io.freshet.core.FreshetException;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import io.freshet.core.time.Scheduler;
import io.freshet.router.RouterSettings;
import io.freshet.router.engine.EnvSubscriptions;
import io.freshet.router.engine.GatedReads;
import io.freshet.router.engine.LagView;
import io.freshet.router.engine.PrimaryFallbackBudget;
import io.freshet.router.push.Sinks;
import io.freshet.store.DatabaseErrors;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The streams a node follows for its readers, one {@link StreamLog} each, shared by every reader
 * on the node: a stream read by 5,000 browsers is read from the replica once per round.
 *
 * <p>Chunks go through the same gated read as run rows ({@link GatedReads}, with
 * {@link ChunkReadSource}): an announcement says the primary committed a stream up to seq N at
 * time W, the read waits until W is older than the replica-lag estimate, a read that stops short of
 * N delivers what it returned and the rest is read again, and past {@code gate.freshWithinMs} from
 * the primary within the node's fallback budget. Nothing is ever skipped: a reader's position only
 * moves through chunks delivered in order. Each round's growth reaches each web edge instance as
 * one message ({@link Sinks}).
 */
public final class StreamFeeds {

  /** A log nobody follows is dropped after this long. */
  static final long IDLE_TTL_MS = 30_000;
  /**
   * A followed stream's state is checked on the primary this often: the backstop for a lost
   * announcement (a node that was cut off from the cluster for a moment), as the backstop poll is
   * for a lost change record.
   */
  static final long BACKSTOP_MS = 20_000;
  /** How long a sink's registration lives without a refresh (sinks refresh every few seconds). */
  static final long SINK_TTL_MS = 15_000;

  private record Waiter(long afterSeq, String sink, Promise<Caught> reply) {}

  private final RouterSettings settings;
  private final Scheduler scheduler;
  private final StreamSource source;
  private final LagView lag;
  private final StreamMetrics metrics;
  private final EnvSubscriptions subscriptions;
  private final int tailChunks;
  private final GatedReads<StreamRef, List<StreamChunk>> reads;
  private final Sinks sinks;

  private final Map<StreamRef, StreamLog> logs = new HashMap<>();
  private final Map<String, StreamRef> byId = new HashMap<>();
  private final Map<StreamRef, List<Waiter>> opening = new HashMap<>();
  private final Map<String, Integer> logsPerEnv = new HashMap<>();
  private final Map<String, Future<Void>> subscribed = new HashMap<>();

  public StreamFeeds(RouterSettings settings, Scheduler scheduler, StreamSource source, LagView lag, PrimaryFallbackBudget budget,
      StreamMetrics metrics, EnvSubscriptions subscriptions, Sinks.Sender pushes, int tailChunks) {
    this.settings = settings;
    this.scheduler = scheduler;
    this.source = source;
    this.lag = lag;
    this.metrics = metrics;
    this.subscriptions = subscriptions;
    this.tailChunks = tailChunks;
    this.sinks = new Sinks(pushes);
    // The tripwire is always on for streams: a short read is never taken as the end.
    this.reads = new GatedReads<>(settings.policy(), true, settings.streamLimits(), scheduler,
        new ChunkReadSource(source, ref -> logs.containsKey(ref) ? logs.get(ref).delivered() : -1), lag, budget, metrics.engine(),
        this::settled);
    lag.listen(new LagView.Listener() {
      @Override
      public void estimateChanged(long lagMs) {
        reads.estimateChanged();
      }

      @Override
      public void replicaProgressed(Long replayedAtMs) {
        reads.replicaProgressed(replayedAtMs);
      }
    });
  }

  public int logs() {
    return logs.size();
  }

  public int followingSinks() {
    return sinks.registrations();
  }

  // --- followers ---------------------------------------------------------------------------------

  /** A web edge instance's reader follows {@code stream} after {@code afterSeq}: what it missed, then every later chunk pushed to its sink. */
  public Future<Caught> follow(StreamRef stream, long afterSeq, String sink) {
    lag.touch();
    StreamLog log = logs.get(stream);
    if (log == null) {
      log = new StreamLog(stream, afterSeq, tailChunks, scheduler.nowMs());
      logs.put(stream, log);
      byId.put(stream.id(), stream);
      logsPerEnv.merge(stream.envId(), 1, Integer::sum);
      Promise<Caught> reply = Promise.promise();
      opening.computeIfAbsent(stream, s -> new ArrayList<>()).add(new Waiter(afterSeq, sink, reply));
      open(log);
      return reply.future();
    }
    if (!log.isOpen()) {
      Promise<Caught> reply = Promise.promise();
      opening.get(stream).add(new Waiter(afterSeq, sink, reply));
      return reply.future();
    }
    return answer(log, afterSeq, sink);
  }

  public void unfollow(PushProtocol.Unfollow request) {
    StreamRef ref = byId.get(request.log());
    if (ref != null && sinks.unfollow(request.log(), request.sink())) {
      logs.get(ref).unfollowed(scheduler.nowMs());
    }
  }

  /** A sink's proof of life for the streams it follows; returns those this node no longer follows for it. */
  public PushProtocol.Refreshed refresh(PushProtocol.Refresh request) {
    long now = scheduler.nowMs();
    List<String> unknown = new ArrayList<>();
    for (PushProtocol.Following following : request.logs()) {
      String id = following.log();
      if (!byId.containsKey(id) || !sinks.refresh(id, request.sink(), now)) {
        unknown.add(id);
      }
    }
    // A stream's sessions are on this node's own sinks: its pushes never cross the cluster.
    return new PushProtocol.Refreshed(unknown, List.of());
  }

  /** While a subscription that was waited for in vain has not landed, how often an open stream is checked on the primary. */
  static final long UNSUBSCRIBED_CHECK_MS = 500;

  /**
   * Subscribes first, then reads the stream's state on the primary: whatever commits after that
   * read is announced to this node, so nothing falls between the two. A subscription that takes
   * longer than {@link EnvSubscriptions#WAIT_MS} to land is not waited for (see {@link #checkUntilSubscribed}).
   */
  private void open(StreamLog log) {
    StreamRef ref = log.ref;
    Future<Void> subscribed = subscription(ref.envId());
    Future<Void> ready = EnvSubscriptions.awaitAtMost(subscribed, scheduler,
        () -> scheduler.after(UNSUBSCRIBED_CHECK_MS, () -> checkUntilSubscribed(log, subscribed)));
    ready.compose(v -> source.primaryState(ref)).onComplete(ar -> {
      if (logs.get(ref) != log) {
        return;
      }
      List<Waiter> waiters = opening.remove(ref);
      String refusal = ar.failed() ? null : refusal(ref, ar.result());
      if (ar.failed() || refusal != null) {
        FreshetException error = ar.failed()
            ? new FreshetException(DatabaseErrors.classify(ar.cause()).map(FreshetException::status).orElse(503),
                "cannot read stream " + ref + ": " + ar.cause().getMessage())
            : FreshetException.notFound(refusal);
        waiters.forEach(w -> w.reply().fail(error));
        drop(log);
        return;
      }
      learned(log, ar.result());
      log.opened(scheduler.nowMs());
      for (Waiter w : waiters) {
        answer(log, w.afterSeq(), w.sink()).onComplete(w.reply());
      }
      ended(log);
      reads.readDue();
      sinks.flush();
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

  /** Registers the sink and answers with what the reader missed: from the tail, else from the replica (or the primary before it). */
  private Future<Caught> answer(StreamLog log, long afterSeq, String sink) {
    sinks.follow(log.ref.id(), sink, scheduler.nowMs());
    log.followed();
    Caught fromTail = log.fromTail(afterSeq);
    if (fromTail != null) {
      return Future.succeededFuture(fromTail);
    }
    // Before the tail: these chunks were delivered here, so the replica has them (unless they came
    // from the primary fallback and it still lags: then they are read there).
    long until = log.tailFirst() - 1;
    List<StreamSource.ChunkRead> read = List.of(new StreamSource.ChunkRead(log.ref, afterSeq, ChunkReadSource.CHUNKS_PER_READ));
    return source.read(read, false).compose(found -> {
      List<StreamChunk> chunks = found.get(0);
      boolean isShort = chunks.size() < ChunkReadSource.CHUNKS_PER_READ && (chunks.isEmpty() || chunks.get(chunks.size() - 1).seq() < until);
      return isShort ? source.read(read, true).map(p -> p.get(0)) : Future.succeededFuture(chunks);
    }).<Caught>map(chunks -> new Caught(ChunkSlice.of(afterSeq, chunks), false, true))
        .recover(e -> Future.failedFuture(new FreshetException(503, "cannot read stream " + log.ref + ": " + e.getMessage())));
  }

  // --- announcements and reads -------------------------------------------------------------------

  public void onAnnouncement(StreamAnnouncement announcement) {
    for (StreamAnnouncement.Item item : announcement.items()) {
      StreamLog log = logs.get(new StreamRef(announcement.envId(), item.runId(), item.key()));
      if (log == null) {
        continue;
      }
      if (log.committed(item.lastSeq())) {
        if (carriesTheNextChunks(log, item)) {
          reads.arrived(log.ref, item.chunks(), item.lastSeq(), item.atMs());
        } else {
          reads.expect(log.ref, item.lastSeq(), item.atMs());
        }
      }
      if (item.closed()) {
        log.ends(item.lastSeq());
      }
      ended(log);
    }
    if (!announcement.endedRuns().isEmpty()) {
      for (StreamLog log : logs.values()) {
        if (log.ref.envId().equals(announcement.envId()) && announcement.endedRuns().contains(log.ref.runId()) && !log.ending()) {
          log.ends(null);
          ended(log);
        }
      }
    }
    reads.readDue();
    sinks.flush();
  }

  /**
   * Whether the announcement carries exactly the chunks that follow what the log delivered, so they
   * are pushed as they are: a log that is behind (an announcement without chunks before it, a read
   * in flight) reads through the gate instead, so that nothing is pushed out of order or skipped.
   */
  private boolean carriesTheNextChunks(StreamLog log, StreamAnnouncement.Item item) {
    return log.isOpen() && !item.chunks().isEmpty() && item.chunks().get(0).seq() == log.delivered() + 1
        && !reads.hasPending(log.ref) && settings.servesCarried(item.carriedBytes());
  }

  /**
   * What the primary says of the stream: its last commit, and whether it ended. A stream still
   * behind it (an announcement lost, or a read that gave up and waits for the replica to move) is
   * read again through the gate.
   */
  private void learned(StreamLog log, StreamSource.StreamState state) {
    if (log.committed(state.lastSeq()) || log.behind()) {
      reads.expect(log.ref, log.known(), state.appendedAtMs() == null ? scheduler.nowMs() : state.appendedAtMs());
    }
    if (state.closed() || state.runEnded()) {
      log.ends(state.lastSeq());
    }
  }

  /** What the gated reads settled: each stream's new chunks, pushed to its sinks from one encoded slice. */
  private void settled(GatedReads.Round<StreamRef, List<StreamChunk>> round) {
    long now = scheduler.nowMs();
    for (GatedReads.Settled<StreamRef, List<StreamChunk>> settled : round.values()) {
      StreamLog log = logs.get(settled.key());
      if (log == null) {
        continue;
      }
      ChunkSlice slice = log.take(settled.value());
      for (StreamChunk chunk : slice.chunks()) {
        metrics.delivered(now - chunk.atMs());
      }
      push(log, slice);
    }
    sinks.flush();
  }

  /** Pushes the stream's end once every chunk up to it was delivered. */
  private void ended(StreamLog log) {
    if (log.isOpen()) {
      push(log, ChunkSlice.of(log.delivered(), List.of()));
    }
  }

  private void push(StreamLog log, ChunkSlice slice) {
    boolean ends = log.completing();
    if (!slice.isEmpty() || ends) {
      sinks.grew(log.ref.id(), slice, log.complete());
    }
  }

  // --- housekeeping ------------------------------------------------------------------------------

  /**
   * Every second: keeps the lag sampler sampling while streams are followed, checks followed
   * streams on the primary (the backstop), forgets sinks that stopped refreshing, and drops logs
   * nobody followed for {@link #IDLE_TTL_MS}.
   */
  public void tick() {
    long now = scheduler.nowMs();
    for (String id : sinks.expire(now - SINK_TTL_MS)) {
      StreamRef ref = byId.get(id);
      if (ref != null) {
        logs.get(ref).unfollowed(now);
      }
    }
    boolean followed = false;
    for (StreamLog log : List.copyOf(logs.values())) {
      if (!log.isOpen()) {
        continue;
      }
      if (sinks.any(log.ref.id())) {
        followed = true;
        if (log.backstopDue(now, BACKSTOP_MS)) {
          backstop(log);
        }
      } else if (log.idleSince(now - IDLE_TTL_MS)) {
        drop(log);
      }
    }
    if (followed) {
      lag.touch();
    }
  }

  /**
   * Announcements from other nodes may miss this node until its subscription lands: the stream is
   * checked on the primary every {@link #UNSUBSCRIBED_CHECK_MS} until then, and once after.
   */
  private void checkUntilSubscribed(StreamLog log, Future<Void> subscribed) {
    if (logs.get(log.ref) != log) {
      return;
    }
    if (log.isOpen()) {
      backstop(log);
    }
    if (!subscribed.isComplete()) {
      scheduler.after(UNSUBSCRIBED_CHECK_MS, () -> checkUntilSubscribed(log, subscribed));
    }
  }

  private void backstop(StreamLog log) {
    source.primaryState(log.ref).onSuccess(state -> {
      if (state == null || logs.get(log.ref) != log) {
        return;
      }
      learned(log, state);
      ended(log);
      reads.readDue();
      sinks.flush();
    });
  }

  private void drop(StreamLog log) {
    if (!logs.remove(log.ref, log)) {
      return;
    }
    byId.remove(log.ref.id());
    opening.remove(log.ref);
    reads.forget(log.ref);
    sinks.dropAll(log.ref.id());
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
