package io.freshet.router.engine;

import java.util.ArrayList;
import java.util.List;

/** The lag sampler as the router's tests drive it: an estimate they set, progress they announce, evidence they read back. */
public final class FakeLag implements LagView {
  public long lagMs;
  public final List<Long> observed = new ArrayList<>();
  public final List<Long> upperBounds = new ArrayList<>();
  /** The replica each observation and bound was about, in order. */
  public final List<Integer> replicas = new ArrayList<>();
  /** Replicas whose read failed, in order. */
  public final List<Integer> failedReplicas = new ArrayList<>();
  /** Where reads go: the test sets it (0: the one replica). */
  public java.util.function.Function<Long, Integer> routes = need -> 0;
  public int touches;
  private Listener listener;

  @Override
  public long lagMs() {
    return lagMs;
  }

  /** The sampler published a new estimate. */
  public void estimate(long ms) {
    lagMs = ms;
    listener.estimateChanged(ms);
  }

  /** The sampler saw the replica's replay move to {@code replayedAtMs}. */
  public void progress(Long replayedAtMs) {
    listener.replicaProgressed(replayedAtMs);
  }

  @Override
  public int route(Long needMs) {
    return routes.apply(needMs);
  }

  @Override
  public void failed(int replica) {
    failedReplicas.add(replica);
  }

  @Override
  public void observed(int replica, long ms) {
    replicas.add(replica);
    observed.add(ms);
    lagMs = Math.max(lagMs, ms);
  }

  @Override
  public void upperBound(int replica, long ms) {
    replicas.add(replica);
    upperBounds.add(ms);
    lagMs = Math.min(lagMs, ms);
  }

  @Override
  public void replayed(int replica, long startMs, long endMs, long replayedAtMs) {}

  @Override
  public void touch() {
    touches++;
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }
}

