package io.freshet.producer;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes change records onto the clustered event bus, one address per environment.
 *
 * <p>Publishing is fire-and-forget and never throws: a dropped record only costs latency, because
 * every live feed ends its hold with a backstop read.
 *
 * <pre>{@code
 * ChangePublisher publisher = ChangePublisher.create(vertx);
 * publisher.publish(ChangeRecord.of(envId, runId, updatedAt.toEpochMilli(), tags, batchId));
 * }</pre>
 */
public final class ChangePublisher {

  private static final Logger log = LoggerFactory.getLogger(ChangePublisher.class);

  private final Vertx vertx;

  private ChangePublisher(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Registers the codecs on {@code vertx} (idempotent) and returns a publisher. */
  public static ChangePublisher create(Vertx vertx) {
    Codecs.register(vertx);
    return new ChangePublisher(vertx);
  }

  public void publish(ChangeRecord record) {
    try {
      vertx.eventBus().publish(Addresses.envChanges(record.envId()), record);
    } catch (RuntimeException e) {
      log.warn("dropped change record for run {}: {}", record.runId(), e.toString());
    }
  }
}
