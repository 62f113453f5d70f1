package io.freshet.router;

import io.vertx.core.Future;
import java.util.function.Function;

/**
 * One environment on one router: its feed logs (indexed by run, tag and batch), the pipeline that
 * turns its change records into rows, its batched single-run reads, and its subscription to the
 * environment's records, which lingers briefly after the last log goes.
 */
final class EnvFeeds {

  final String envId;
  final FeedIndex index = new FeedIndex();
  final EnvPipeline pipeline;
  final RunReadBatcher reads;
  private Future<Void> subscription = Future.succeededFuture();
  private long subscribedAtMs = -1;
  private long lingerTimer = -1;

  EnvFeeds(String envId, Function<EnvFeeds, EnvPipeline> pipeline, Function<EnvFeeds, RunReadBatcher> reads) {
    this.envId = envId;
    this.pipeline = pipeline.apply(this);
    this.reads = reads.apply(this);
  }

  /** Completes once records published anywhere in the cluster reach this router. */
  Future<Void> subscription() {
    return subscription;
  }

  void subscribing(Future<Void> subscription, java.util.function.LongSupplier clock) {
    this.subscription = subscription.onSuccess(v -> subscribedAtMs = clock.getAsLong());
  }

  /** Since when records reach this router, or -1 while subscribing. */
  long subscribedAtMs() {
    return subscribedAtMs;
  }

  long lingerTimer() {
    return lingerTimer;
  }

  void lingerTimer(long timerId) {
    lingerTimer = timerId;
  }
}
