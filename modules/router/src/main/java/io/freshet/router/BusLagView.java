package io.freshet.router;

import io.freshet.producer.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

/**
 * The lag sampler as a router sees it: the last estimate the sampler published on this node, and
 * fire-and-forget reports of what the tripwire saw. A report widens the local view at once, so the
 * retry that follows it already waits long enough; the sampler's reply confirms it.
 */
final class BusLagView implements LagView {

  private static final long TOUCH_EVERY_MS = 1000;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setSendTimeout(5000);

  private final Vertx vertx;
  private volatile long lagMs;
  private long lastTouchMs;
  private final ReplayBracket bracket = new ReplayBracket();
  private long lastSampleSentMs;
  private static final long SAMPLE_EVERY_MS = 20;
  private MessageConsumer<JsonObject> consumer;

  BusLagView(Vertx vertx, long initialLagMs) {
    this.vertx = vertx;
    this.lagMs = initialLagMs;
  }

  MessageConsumer<JsonObject> listen() {
    consumer = vertx.eventBus().localConsumer(Addresses.lagEstimate(), msg -> lagMs = msg.body().getLong("lagMs", lagMs));
    vertx.eventBus().<JsonObject>request(Addresses.lagObservations(), new JsonObject(), LOCAL)
        .onSuccess(reply -> lagMs = reply.body().getLong("lagMs", lagMs));
    return consumer;
  }

  @Override
  public long lagMs() {
    return lagMs;
  }

  @Override
  public void observed(long observedMs) {
    lagMs = Math.max(lagMs, observedMs);
    vertx.eventBus().<JsonObject>request(Addresses.lagObservations(), new JsonObject().put("observedMs", observedMs), LOCAL)
        .onSuccess(reply -> lagMs = reply.body().getLong("lagMs", lagMs));
  }

  @Override
  public void upperBound(long upperMs) {
    if (upperMs >= lagMs) {
      return; // tells the sampler nothing new; most reads on a steady replica end here
    }
    lagMs = upperMs;
    vertx.eventBus().<JsonObject>request(Addresses.lagObservations(), new JsonObject().put("upperBoundMs", upperMs), LOCAL)
        .onSuccess(reply -> lagMs = reply.body().getLong("lagMs", lagMs));
  }

  @Override
  public void replayed(long startMs, long endMs, long replayedAtMs) {
    bracket.onRead(startMs, endMs, replayedAtMs).ifPresent(sampleMs -> {
      if (endMs - lastSampleSentMs >= SAMPLE_EVERY_MS) {
        lastSampleSentMs = endMs;
        vertx.eventBus().<JsonObject>request(Addresses.lagObservations(), new JsonObject().put("sampleMs", sampleMs), LOCAL)
            .onSuccess(reply -> lagMs = reply.body().getLong("lagMs", lagMs));
      }
    });
  }

  @Override
  public void touch() {
    long now = System.currentTimeMillis();
    if (now - lastTouchMs >= TOUCH_EVERY_MS) {
      lastTouchMs = now;
      vertx.eventBus().send(Addresses.lagTouch(), "touch", LOCAL);
    }
  }
}
