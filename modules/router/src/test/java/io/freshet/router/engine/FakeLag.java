package io.freshet.router.engine;

import java.util.ArrayList;
import java.util.List;

/** The lag sampler as the router's tests drive it: an estimate they set, progress they announce, evidence they read back. */
public final class FakeLag implements LagView {
  public long lagMs;
  public final List<Long> observed = new ArrayList<>();
  public final List<Long> upperBounds = new ArrayList<>();
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
  public void observed(long ms) {
    observed.add(ms);
    lagMs = Math.max(lagMs, ms);
  }

  @Override
  public void upperBound(long ms) {
    upperBounds.add(ms);
    lagMs = Math.min(lagMs, ms);
  }

  @Override
  public void replayed(long startMs, long endMs, long replayedAtMs) {}

  @Override
  public void touch() {
    touches++;
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }
}

