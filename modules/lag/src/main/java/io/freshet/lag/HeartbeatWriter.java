package io.freshet.lag;

import io.freshet.core.lag.Heartbeat;
import io.freshet.core.time.Clock;
import io.vertx.core.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Writes the heartbeat on the primary, once per tick, while some node of the cluster has active
 * feeds ({@link #demand}) and this node is the cluster's writer; announces each write so that every
 * node's {@link HeartbeatProbe} can time its replica. Writes never overlap; a failed write is only
 * a lost beat.
 */
final class HeartbeatWriter {

  private final Supplier<Future<Heartbeat>> write;
  private final BooleanSupplier isWriter;
  private final Consumer<Heartbeat> announce;
  private final Clock clock;
  private final long idleAfterMs;
  private long demandedAtMs = Long.MIN_VALUE;
  private boolean inFlight;
  private long writes;

  HeartbeatWriter(Supplier<Future<Heartbeat>> write, BooleanSupplier isWriter, Consumer<Heartbeat> announce, Clock clock,
      long idleAfterMs) {
    this.write = write;
    this.isWriter = isWriter;
    this.announce = announce;
    this.clock = clock;
    this.idleAfterMs = idleAfterMs;
  }

  /** Some node has active feeds: keep writing for {@code idleAfterMs}. */
  void demand() {
    demandedAtMs = clock.nowMs();
  }

  boolean demanded() {
    return demandedAtMs != Long.MIN_VALUE && clock.nowMs() - demandedAtMs <= idleAfterMs;
  }

  long writes() {
    return writes;
  }

  /** Called every sample interval. */
  void tick() {
    if (inFlight || !demanded() || !isWriter.getAsBoolean()) {
      return;
    }
    inFlight = true;
    Future<Heartbeat> written;
    try {
      written = write.get();
    } catch (RuntimeException e) {
      written = Future.failedFuture(e);
    }
    written.onComplete(ar -> {
      inFlight = false;
      if (ar.succeeded()) {
        writes++;
        announce.accept(ar.result());
      }
    });
  }
}
