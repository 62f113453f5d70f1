package io.freshet.router.engine;

import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.lag.Estimate;
import io.freshet.core.lag.Evidence;
import io.freshet.core.lag.Touch;
import io.freshet.core.time.Clock;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * The lag sampler as a router sees it: the last estimate the sampler published on this node, the
 * replica's replay progress, and fire-and-forget reports of what the tripwire saw. A report widens
 * the local view at once, so the retry that follows it already waits long enough; the sampler's
 * reply confirms it.
 */
public final class BusLagView implements LagView {

  private static final long TOUCH_EVERY_MS = 1000;
  private static final long SAMPLE_EVERY_MS = 20;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(5000);

  private final Vertx vertx;
  private final Clock clock;
  private final ReplayBracket bracket = new ReplayBracket();
  private volatile long lagMs;
  private long lastTouchMs;
  private long lastSampleSentMs;
  private Listener listener;

  public BusLagView(Vertx vertx, Clock clock, long initialLagMs) {
    this.vertx = vertx;
    this.clock = clock;
    this.lagMs = initialLagMs;
  }

  /** Starts following the sampler's estimate; completes when the consumer is registered. */
  public MessageConsumer<Estimate> start() {
    MessageConsumer<Estimate> consumer = vertx.eventBus().localConsumer(NodeAddresses.lagEstimate(), msg -> {
      Estimate estimate = msg.body();
      update(estimate);
      if (estimate.replayedAtMs() != null && listener != null) {
        listener.replicaProgressed(estimate.replayedAtMs());
      }
    });
    ask(new Evidence.Ask());
    return consumer;
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public long lagMs() {
    return lagMs;
  }

  @Override
  public void observed(long observedMs) {
    set(Math.max(lagMs, observedMs));
    ask(new Evidence.Observed(observedMs));
  }

  @Override
  public void upperBound(long upperMs) {
    if (upperMs >= lagMs) {
      return; // tells the sampler nothing new; most reads on a steady replica end here
    }
    ask(new Evidence.UpperBound(upperMs));
  }

  @Override
  public void replayed(long startMs, long endMs, long replayedAtMs) {
    bracket.onRead(startMs, endMs, replayedAtMs).ifPresent(sampleMs -> {
      if (endMs - lastSampleSentMs >= SAMPLE_EVERY_MS) {
        lastSampleSentMs = endMs;
        ask(new Evidence.Measured(sampleMs));
      }
    });
  }

  @Override
  public void touch() {
    long now = clock.nowMs();
    if (now - lastTouchMs >= TOUCH_EVERY_MS) {
      lastTouchMs = now;
      vertx.eventBus().send(NodeAddresses.lagTouch(), new Touch(), LOCAL);
    }
  }

  private void ask(Evidence evidence) {
    vertx.eventBus().<Estimate>request(NodeAddresses.lagEvidence(), evidence, LOCAL).onSuccess(reply -> update(reply.body()));
  }

  private void update(Estimate estimate) {
    set(estimate.lagMs());
  }

  private void set(long value) {
    if (value != lagMs) {
      lagMs = value;
      if (listener != null) {
        listener.estimateChanged(value);
      }
    }
  }
}
