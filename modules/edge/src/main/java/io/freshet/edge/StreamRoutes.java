package io.freshet.edge;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.core.time.Clock;
import io.freshet.core.stream.StreamRef;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * trigger.dev's realtime streams (v1, as SDK 4.8.3 speaks it; the SDK is told {@code v1}, so it
 * never looks for S2):
 *
 * <ul>
 *   <li>{@code PUT /realtime/v1/streams/{run}/self/{key}}: a task registers a stream (202 {@code {version}}).
 *   <li>{@code POST} to the same path: one long chunked body of NDJSON, one chunk per line, numbered
 *       from {@code X-Resume-From-Chunk} under the writer's {@code X-Client-Id}. The end of the body
 *       closes the stream.
 *   <li>{@code HEAD} to the same path: the writer's resume probe, {@code X-Last-Chunk-Index}.
 *   <li>{@code POST .../append}: one chunk, the raw body.
 *   <li>{@code GET /realtime/v1/streams/{run}/{key}}: the reader, server-sent events from after
 *       {@code Last-Event-ID}, ended once the stream is complete, or after {@code Timeout-Seconds}
 *       without a chunk.
 * </ul>
 *
 * Writers use the environment's secret key; readers a secret key or a public token that may read
 * the run (its id, one of its tags, its batch or its task).
 */
final class StreamRoutes {

  private static final String WRITER_PATH = "/realtime/v1/streams/:runId/:target/:key";
  /** Lines a writer may have waiting for the primary before its body is paused. */
  private static final int MAX_PENDING_LINES = 2000;
  private static final long APPEND_TIMEOUT_MS = 30_000;
  /** The last chunk index a writer may use: indexes are int4 in the database. */
  static final long MAX_CHUNK_INDEX = Integer.MAX_VALUE;

  private final Vertx vertx;
  private final Authenticator auth;
  private final RunAccess runAccess;
  private final ConnectionLimiter limiter;
  private final Sink sink;
  private final Clock clock;
  private final int maxBehind;
  private final int maxChunkBytes;
  private final int defaultTimeoutSeconds;
  private final long writerIdleMs;
  private final Scheduler scheduler;

  StreamRoutes(Vertx vertx, FreshetConfig config, Authenticator auth, RunAccess runAccess, ConnectionLimiter limiter,
      Sink sink, Clock clock) {
    this.vertx = vertx;
    this.auth = auth;
    this.runAccess = runAccess;
    this.limiter = limiter;
    this.sink = sink;
    this.clock = clock;
    this.maxBehind = config.getInt(FreshetConfig.REALTIME_SSE_MAX_BEHIND_ENTRIES);
    this.maxChunkBytes = config.getInt(FreshetConfig.STREAMS_MAX_CHUNK_BYTES);
    this.defaultTimeoutSeconds = config.getInt(FreshetConfig.STREAMS_DEFAULT_TIMEOUT_SECONDS);
    this.writerIdleMs = config.getInt(FreshetConfig.STREAMS_WRITER_IDLE_TIMEOUT_MS);
    this.scheduler = VertxScheduler.on(vertx);
  }

  /** Routes that read their own body (mounted before the global body handler). */
  void mountWriters(Router router) {
    router.post(WRITER_PATH + "/append").handler(BodyHandler.create(false).setBodyLimit(maxChunkBytes));
    router.post(WRITER_PATH + "/append").handler(this::append);
    router.post(WRITER_PATH).handler(this::ingest);
  }

  void mount(Router router) {
    router.put(WRITER_PATH).handler(this::register);
    router.head(WRITER_PATH).handler(this::probe);
    router.get("/realtime/v1/streams/:runId/:key").handler(this::read);
  }

  // --- writers -----------------------------------------------------------------------------------

  private void register(RoutingContext ctx) {
    writer(ctx).compose(ref -> registered(ref, null)).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else if (ar.result().closed()) {
        ctx.fail(closed(ctx));
      } else {
        ctx.response().setStatusCode(202).putHeader("content-type", "application/json").end(new JsonObject().put("version", "v1").encode());
      }
    });
  }

  private void probe(RoutingContext ctx) {
    writer(ctx).compose(ref -> Bus.write(vertx, new WriteCommand.ProbeStream(ref, clientId(ctx.request())), APPEND_TIMEOUT_MS))
        .onComplete(ar -> {
          if (ar.failed()) {
            ctx.fail(ar.cause());
          } else {
            ctx.response().putHeader("X-Last-Chunk-Index", Long.toString(ar.result().lastChunkIndex())).end();
          }
        });
  }

  private void append(RoutingContext ctx) {
    writer(ctx).compose(ref -> {
      String data = utf8(ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer(), "the appended part");
      return registered(ref, null).compose(state -> state.closed() ? Future.failedFuture(closed(ctx))
          : Bus.<StreamProtocol.Appended>askLocal(vertx, NodeAddresses.streamAppends(),
              new StreamProtocol.Append(ref, null, List.of(new StreamProtocol.Line(0, data)), false), APPEND_TIMEOUT_MS));
    }).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        ctx.json(new JsonObject().put("ok", true));
      }
    });
  }

  /** The long NDJSON body of {@code streams.pipe}: lines go to the primary as they arrive, in order. */
  private void ingest(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    int resumeFrom;
    String clientId;
    try {
      resumeFrom = resumeFrom(request.getHeader("X-Resume-From-Chunk"));
      clientId = clientId(request);
    } catch (FreshetException e) {
      ctx.fail(e);
      return;
    }
    writer(ctx).compose(ref -> registered(ref, clientId).map(state -> {
      if (state.closed()) {
        throw closed(ctx);
      }
      return new Ingest(ctx, ref, clientId, resumeFrom, state.lastChunkIndex());
    })).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        ar.result().start();
      }
    });
  }

  /** One writer's body: split into lines, numbered, sent to the publisher one batch at a time. */
  private final class Ingest {
    private final RoutingContext ctx;
    private final StreamRef ref;
    private final String clientId;
    private final long alreadyStored;
    /** Long, so that the line after index 2^31 - 1 is seen (and refused) instead of wrapping negative. */
    private long nextIndex;
    private Buffer partial = Buffer.buffer();
    private List<StreamProtocol.Line> pending = new ArrayList<>();
    private boolean inFlight;
    private boolean ended;
    private boolean failed;
    private boolean paused;
    private long lastSeq = -1;
    private long lastDataMs;
    private long idleTimer = -1;

    Ingest(RoutingContext ctx, StreamRef ref, String clientId, int resumeFrom, long alreadyStored) {
      this.ctx = ctx;
      this.ref = ref;
      this.clientId = clientId;
      this.nextIndex = resumeFrom;
      this.alreadyStored = alreadyStored;
    }

    void start() {
      HttpServerRequest request = ctx.request();
      request.handler(this::data);
      lastDataMs = scheduler.nowMs();
      armIdle();
      request.endHandler(v -> {
        scheduler.cancel(idleTimer);
        if (!failed && partial.length() > 0) {
          line(partial);
          partial = Buffer.buffer();
        }
        ended = true;
        send();
      });
      request.exceptionHandler(e -> {
        scheduler.cancel(idleTimer);
        // The connection dropped mid-body: what arrived is kept (the writer resumes after it); the stream stays open.
        if (!ended) {
          ended = true;
          failed = true;
          send();
        }
      });
      request.resume();
    }

    /**
     * The body's own idle deadline (the connection deadlines leave writers alone): a body that
     * sends nothing for {@code streams.writerIdleTimeoutMs} ends as a dropped connection would,
     * keeping what arrived, with a 408 the writer may still read. Time the body spends paused by
     * us (waiting for the primary) is not the writer's silence.
     */
    private void armIdle() {
      idleTimer = scheduler.after(lastDataMs + writerIdleMs - scheduler.nowMs(), () -> {
        idleTimer = -1;
        if (ended) {
          return;
        }
        if (paused || scheduler.nowMs() - lastDataMs < writerIdleMs) {
          if (paused) {
            lastDataMs = scheduler.nowMs();
          }
          armIdle();
          return;
        }
        ended = true;
        failed = true;
        send();
        if (!ctx.response().ended() && !ctx.response().closed()) {
          ctx.response().setStatusCode(408).putHeader("content-type", "application/json").putHeader("connection", "close")
              .end(new JsonObject().put("error", "the stream writer's body sent nothing for " + writerIdleMs
                  + " ms (streams.writerIdleTimeoutMs); what arrived is kept, resume from X-Last-Chunk-Index").encode())
              .onComplete(v -> ctx.request().connection().close());
        } else {
          ctx.request().connection().close();
        }
      });
    }

    private void data(Buffer buffer) {
      lastDataMs = scheduler.nowMs();
      if (failed) {
        return;
      }
      int start = 0;
      for (int i = 0; i < buffer.length(); i++) {
        if (buffer.getByte(i) == '\n') {
          Buffer line = partial.length() == 0 ? buffer.getBuffer(start, i) : partial.appendBuffer(buffer.getBuffer(start, i));
          partial = Buffer.buffer();
          start = i + 1;
          if (!line(line)) {
            return;
          }
        }
      }
      if (start < buffer.length()) {
        partial.appendBuffer(buffer.getBuffer(start, buffer.length()));
        if (partial.length() > maxChunkBytes) {
          refuse(FreshetException.tooLarge("a chunk (one line of the body) exceeds " + maxChunkBytes + " bytes (streams.maxChunkBytes)"));
          return;
        }
      }
      send();
    }

    /** Takes one line; false when it refused the body. */
    private boolean line(Buffer bytes) {
      int length = bytes.length();
      if (length > 0 && bytes.getByte(length - 1) == '\r') {
        bytes = bytes.getBuffer(0, length - 1);
      }
      if (bytes.length() == 0) {
        return true;
      }
      if (bytes.length() > maxChunkBytes) {
        refuse(FreshetException.tooLarge("a chunk (one line of the body) exceeds " + maxChunkBytes + " bytes (streams.maxChunkBytes)"));
        return false;
      }
      if (nextIndex > MAX_CHUNK_INDEX) {
        // Chunk indexes are int4 end to end (the publisher, stream_chunks.chunk_index): a line past
        // the last one is refused with the body, before anything acknowledges it.
        refuse(FreshetException.badRequest("chunk index " + nextIndex + " is past the last one (" + MAX_CHUNK_INDEX
            + "): X-Resume-From-Chunk plus this body's lines must stay within it"));
        return false;
      }
      String data;
      try {
        data = utf8(bytes, "chunk " + nextIndex);
      } catch (FreshetException e) {
        refuse(e);
        return false;
      }
      int index = (int) nextIndex++;
      if (index > alreadyStored) { // a resuming writer may send again what was stored
        pending.add(new StreamProtocol.Line(index, data));
      }
      return true;
    }

    /** Sends what is pending unless a batch is in flight; after the end, closes the stream and answers. */
    private void send() {
      if (inFlight) {
        if (pending.size() >= MAX_PENDING_LINES && !paused && !ended) {
          paused = true;
          ctx.request().pause();
        }
        return;
      }
      boolean closing = ended && !failed;
      if (pending.isEmpty() && !closing) {
        return; // nothing to store (or dropped mid-body, with everything stored)
      }
      List<StreamProtocol.Line> batch = pending;
      pending = new ArrayList<>();
      inFlight = true;
      Bus.<StreamProtocol.Appended>askLocal(vertx, NodeAddresses.streamAppends(), new StreamProtocol.Append(ref, clientId, batch, closing),
          APPEND_TIMEOUT_MS).onComplete(ar -> {
            inFlight = false;
            if (ar.failed()) {
              refuse(ar.cause());
              return;
            }
            lastSeq = ar.result().lastSeq();
            if (closing) {
              ctx.json(new JsonObject().put("ok", true).put("lastSeq", lastSeq));
              return;
            }
            if (paused) {
              paused = false;
              ctx.request().resume();
            }
            send();
          });
    }

    private void refuse(Throwable e) {
      if (failed && ctx.response().ended()) {
        return;
      }
      failed = true;
      pending.clear();
      if (!ctx.response().ended() && !ctx.response().closed()) {
        ctx.fail(e);
      }
    }
  }

  /** Authenticates a writer (secret key only) and reads the stream it names. */
  private Future<StreamRef> writer(RoutingContext ctx) {
    try {
      String target = ctx.pathParam("target");
      String runId = FeedParams.id(ctx.pathParam("runId"), "runId");
      if (!"self".equals(target) && !runId.equals(target)) {
        throw FreshetException.badRequest("target must be 'self' or the run's id (the SDK resolves parent and root to a run id)");
      }
      String key = StreamRef.validKey(ctx.pathParam("key"));
      return auth.authenticate(ctx.request().getHeader("Authorization")).map(principal -> {
        principal.requireSecret();
        return new StreamRef(principal.envId(), runId, key);
      });
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<WriteReply.StreamRegistered> registered(StreamRef ref, String clientId) {
    return Bus.write(vertx, new WriteCommand.RegisterStream(ref, clientId), APPEND_TIMEOUT_MS);
  }

  private static FreshetException closed(RoutingContext ctx) {
    return new FreshetException(409, "stream '" + ctx.pathParam("key") + "' of run " + ctx.pathParam("runId")
        + " is closed: its writer ended it, or the run ended");
  }

  static int resumeFrom(String header) {
    if (header == null || header.isBlank()) {
      return 0;
    }
    try {
      int n = Integer.parseInt(header.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw FreshetException.badRequest("X-Resume-From-Chunk must be a whole number from 0, not '" + header + "'");
    }
  }

  static String clientId(HttpServerRequest request) {
    String id = request.getHeader("X-Client-Id");
    if (id == null || id.isBlank()) {
      return null;
    }
    if (id.length() > 64 || !id.chars().allMatch(c -> c > 32 && c < 127)) {
      throw FreshetException.badRequest("X-Client-Id must be 1 to 64 printable ASCII characters");
    }
    return id;
  }

  /** Strict UTF-8, without NUL (which the database cannot store in text). */
  static String utf8(Buffer bytes, String what) {
    try {
      String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.getBytes())).toString();
      if (text.indexOf('\u0000') >= 0) {
        throw FreshetException.badRequest(what + " contains a NUL character");
      }
      return text;
    } catch (CharacterCodingException e) {
      throw FreshetException.badRequest(what + " is not valid UTF-8");
    }
  }

  // --- readers -----------------------------------------------------------------------------------

  private void read(RoutingContext ctx) {
    String runId;
    long afterSeq;
    long timeoutMs;
    String key;
    String authorization;
    try {
      runId = FeedParams.id(ctx.pathParam("runId"), "runId");
      key = StreamRef.validKey(ctx.pathParam("key"));
      afterSeq = afterSeq(ctx.request().getHeader("Last-Event-ID"));
      timeoutMs = timeoutSeconds(ctx.request().getHeader("Timeout-Seconds")) * 1000L;
      authorization = RealtimeRoutes.authorization(ctx);
    } catch (FreshetException e) {
      ctx.fail(e);
      return;
    }
    boolean fromEventSource = ctx.request().getHeader("Authorization") == null;
    auth.authenticate(authorization)
        .compose(principal -> runAccess.requireRead(principal, runId).map(principal))
        .compose(principal -> limiter.acquire(principal).map(release -> {
          StreamRef ref = new StreamRef(principal.envId(), runId, key);
          HttpServerResponse response = ctx.response();
          SseSession session = new SseSession(new PushProtocol.Stream(ref), NodeAddresses.streamRouter(),
              new StreamSse(timeoutMs, fromEventSource), SseSession.Output.of(response), afterSeq, clock.nowMs(), maxBehind, release);
          sink.follow(session, cause -> {
            if (!response.closed() && !response.headWritten()) {
              ctx.fail(cause);
            }
          });
          return session;
        }))
        .onFailure(ctx::fail);
  }

  static long afterSeq(String lastEventId) {
    if (lastEventId == null || lastEventId.isBlank()) {
      return -1;
    }
    Long seq = StreamChunk.seqOfEventId(lastEventId);
    if (seq == null) {
      throw FreshetException.badRequest("Last-Event-ID must be an id this server sent (<ms>-<seq>) or a chunk number, not '"
          + lastEventId + "'");
    }
    return seq;
  }

  long timeoutSeconds(String header) {
    if (header == null || header.isBlank()) {
      return defaultTimeoutSeconds;
    }
    try {
      long seconds = Long.parseLong(header.trim());
      if (seconds >= 1 && seconds <= 600) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw FreshetException.badRequest("Timeout-Seconds must be a whole number of seconds from 1 to 600, not '" + header + "'");
  }
}
