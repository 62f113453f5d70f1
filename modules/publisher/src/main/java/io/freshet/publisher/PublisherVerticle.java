package io.freshet.publisher;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.core.time.Scheduler;
import io.freshet.core.time.VertxScheduler;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply.Transitioned;
import io.freshet.core.write.WriteRequests;
import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of a node. Takes write commands from the HTTP edge (node-local, typed
 * {@link WriteCommand}s) and status transitions from an engine anywhere in the cluster (JSON, parsed
 * here by the edge's parser), writes them to the primary, and publishes a change record carrying
 * each write's committed {@code updated_at}.
 *
 * <p>The edge gets typed replies, an engine JSON; a client error fails the message with its HTTP
 * status, anything unexpected with 500 after one log line.
 */
public final class PublisherVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(PublisherVerticle.class);

  private final Pool primary;
  private PublisherCommands commands;
  private Scheduler scheduler;
  private long flushTimer = -1;
  private long sweepTimer = -1;

  /** How often streams past retention are deleted. */
  private static final long SWEEP_EVERY_MS = 10 * 60 * 1000;

  public PublisherVerticle(Pool primary) {
    this.primary = primary;
  }

  @Override
  public Future<?> start() {
    FreshetConfig config = FreshetConfig.fromJson(config());
    ChangePublisher bus = ChangePublisher.create(vertx);
    int rowImageMaxBytes = config.getInt(FreshetConfig.ROUTER_ROW_IMAGE_MAX_BYTES);
    // Every write returns its row; a record carries it up to the size routers serve (the bus only
    // takes it to nodes holding feeds of the environment: the address is per environment).
    java.util.function.Consumer<ChangeRecord> publish = record -> bus.publish(record.withRowUpTo(rowImageMaxBytes));
    java.util.function.Consumer<StreamAnnouncement> announce =
        a -> vertx.eventBus().publish(NodeAddresses.envStreams(a.envId()), a);
    StreamWrites streams = new StreamWrites(primary, publish, announce, config.getInt(FreshetConfig.STREAMS_MAX_PER_RUN));
    commands = new PublisherCommands(primary, publish, streams, config);
    StreamAppender appender = new StreamAppender(primary, announce, config.getInt(FreshetConfig.STREAMS_MAX_CHUNKS),
        config.get(FreshetConfig.STREAMS_MAX_BYTES), rowImageMaxBytes);

    MessageConsumer<Object> api = vertx.eventBus().localConsumer(NodeAddresses.publisherCommands(), this::command);
    MessageConsumer<Object> engine = vertx.eventBus().consumer(NodeAddresses.engineTransitions(), this::engineTransition);
    MessageConsumer<StreamProtocol.Append> appends = vertx.eventBus().localConsumer(NodeAddresses.streamAppends(),
        message -> appender.append(message.body()).onComplete(ar -> reply(message, ar)));
    int interval = config.getInt(FreshetConfig.PUBLISHER_FLUSH_INTERVAL_MS);
    scheduler = VertxScheduler.on(vertx);
    flushTimer = scheduler.every(interval, () -> commands.flusher().flush());
    int retentionHours = config.getInt(FreshetConfig.STREAMS_RETENTION_HOURS);
    sweepTimer = scheduler.every(SWEEP_EVERY_MS, () -> streams.sweep(retentionHours)
        .onFailure(e -> log.warn("stream retention sweep failed: {}", e.getMessage())));
    return Future.all(api.completion(), engine.completion(), appends.completion());
  }

  /** Writes what is still buffered, so a clean undeploy loses no parent or root operations. */
  @Override
  public Future<?> stop() {
    if (scheduler != null) {
      scheduler.cancel(flushTimer);
      scheduler.cancel(sweepTimer);
    }
    return commands == null ? Future.succeededFuture() : commands.flusher().flush();
  }

  /** A command from this node's edge; anything else on the address is a bug of ours (500). */
  private void command(Message<Object> message) {
    Future<?> result = message.body() instanceof WriteCommand<?> command ? commands.handle(command)
        : Future.failedFuture(new IllegalArgumentException("not a WriteCommand: " + message.body()));
    result.onComplete(ar -> reply(message, ar));
  }

  /** An engine's JSON transition: parsed as the edge parses one, answered as JSON. */
  private void engineTransition(Message<Object> message) {
    Future<JsonObject> result;
    try {
      result = commands.handle(WriteRequests.engineTransition(message.body())).map(Transitioned::toJson);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> reply(message, ar));
  }

  private static <T> void reply(Message<?> message, AsyncResult<T> ar) {
    if (ar.succeeded()) {
      message.reply(ar.result());
      return;
    }
    FreshetException known = io.freshet.store.DatabaseErrors.classify(ar.cause()).orElse(null);
    if (known != null) {
      message.fail(known.status(), known.getMessage());
    } else {
      log.error("publisher command failed", ar.cause());
      message.fail(500, "internal error");
    }
  }
}
