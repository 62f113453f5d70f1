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
 * The lag sampler as a router sees it: the last estimate the sampler published on this node for
 * each replica, their replay progress and rotation, and fire-and-forget reports of what the
 * tripwire saw on each. A report widens the local view at once, so the retry that follows it
 * already waits long enough (or goes to another replica); the sampler's reply confirms it.
 */
public final class BusLagView implements LagView {

  private static final long TOUCH_EVERY_MS = 1000;
  private static final long SAMPLE_EVERY_MS = 20;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(5000);

  private final Vertx vertx;
  private final Clock clock;
  private final ReplicaRoutes routes;
  private final ReplayBracket[] brackets;
  private final long[] lastSampleSentMs;
  private volatile long lagMs;
  private long lastTouchMs;
  private Listener listener;

  /**
   * @param replicas how many read replicas the node has (at least 1: the primary stands in for none)
   * @param gateOnWorst {@code gate.replicas=worst}: the reader-endpoint baseline ({@link ReplicaRoutes})
   */
  public BusLagView(Vertx vertx, Clock clock, long initialLagMs, int replicas, boolean gateOnWorst) {
    this.vertx = vertx;
    this.clock = clock;
    this.routes = new ReplicaRoutes(replicas, initialLagMs, gateOnWorst);
    this.brackets = new ReplayBracket[routes.count()];
    this.lastSampleSentMs = new long[routes.count()];
    for (int i = 0; i < brackets.length; i++) {
      brackets[i] = new ReplayBracket();
    }
    this.lagMs = initialLagMs;
  }

  /** Starts following the sampler's estimates; completes when the consumer is registered. */
  public MessageConsumer<Estimate> start() {
    MessageConsumer<Estimate> consumer = vertx.eventBus().localConsumer(NodeAddresses.lagEstimate(), msg -> {
      Estimate estimate = msg.body();
      update(estimate);
      if (estimate.replayedAtMs() != null) {
        routes.replayed(estimate.replica(), estimate.replayedAtMs());
        if (listener != null) {
          listener.replicaProgressed(estimate.replayedAtMs());
        }
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
  public int route(Long needMs) {
    return routes.route(needMs, clock.nowMs());
  }

  @Override
  public void observed(int replica, long observedMs) {
    routes.widen(replica, observedMs);
    changed();
    ask(new Evidence.Observed(replica, observedMs));
  }

  @Override
  public void upperBound(int replica, long upperMs) {
    if (replica < 0 || replica >= routes.count() || upperMs >= routes.lagMs(replica)) {
      return; // tells the sampler nothing new; most reads on a steady replica end here
    }
    ask(new Evidence.UpperBound(replica, upperMs));
  }

  @Override
  public void replayed(int replica, long startMs, long endMs, long replayedAtMs) {
    if (replica < 0 || replica >= routes.count()) {
      return;
    }
    routes.replayed(replica, replayedAtMs);
    brackets[replica].onRead(startMs, endMs, replayedAtMs).ifPresent(sampleMs -> {
      if (endMs - lastSampleSentMs[replica] >= SAMPLE_EVERY_MS) {
        lastSampleSentMs[replica] = endMs;
        ask(new Evidence.Measured(replica, sampleMs));
      }
    });
  }

  @Override
  public void failed(int replica) {
    routes.failed(replica, clock.nowMs());
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
    routes.estimate(estimate.replica(), estimate.lagMs(), estimate.inRotation());
    changed();
  }

  private void changed() {
    long value = routes.gateLagMs();
    if (value != lagMs) {
      lagMs = value;
      if (listener != null) {
        listener.estimateChanged(value);
      }
    }
  }
}
