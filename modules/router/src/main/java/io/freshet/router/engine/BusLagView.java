package io.freshet.router.engine;

import io.freshet.core.bus.NodeAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

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
  private final ReplayBracket bracket = new ReplayBracket();
  private volatile long lagMs;
  private long lastTouchMs;
  private long lastSampleSentMs;
  private Listener listener;

  public BusLagView(Vertx vertx, long initialLagMs) {
    this.vertx = vertx;
    this.lagMs = initialLagMs;
  }

  /** Starts following the sampler's estimate; completes when the consumer is registered. */
  public MessageConsumer<JsonObject> start() {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(NodeAddresses.lagEstimate(), msg -> {
      JsonObject body = msg.body();
      update(body);
      if (body.containsKey("replayedAtMs") && listener != null) {
        listener.replicaProgressed(body.getLong("replayedAtMs"));
      }
    });
    ask(new JsonObject());
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
    ask(new JsonObject().put("observedMs", observedMs));
  }

  @Override
  public void upperBound(long upperMs) {
    if (upperMs >= lagMs) {
      return; // tells the sampler nothing new; most reads on a steady replica end here
    }
    ask(new JsonObject().put("upperBoundMs", upperMs));
  }

  @Override
  public void replayed(long startMs, long endMs, long replayedAtMs) {
    bracket.onRead(startMs, endMs, replayedAtMs).ifPresent(sampleMs -> {
      if (endMs - lastSampleSentMs >= SAMPLE_EVERY_MS) {
        lastSampleSentMs = endMs;
        ask(new JsonObject().put("sampleMs", sampleMs));
      }
    });
  }

  @Override
  public void touch() {
    long now = System.currentTimeMillis();
    if (now - lastTouchMs >= TOUCH_EVERY_MS) {
      lastTouchMs = now;
      vertx.eventBus().send(NodeAddresses.lagTouch(), "touch", LOCAL);
    }
  }

  private void ask(JsonObject evidence) {
    vertx.eventBus().<JsonObject>request(NodeAddresses.lagEvidence(), evidence, LOCAL).onSuccess(reply -> update(reply.body()));
  }

  private void update(JsonObject estimate) {
    Long value = estimate.getLong("lagMs");
    if (value != null) {
      set(value);
    }
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
