package io.freshet.router.engine;

import java.util.OptionalLong;

/**
 * Measures the replica's apply delay from the reader side, for free, out of the hydrates the
 * router runs anyway: each returns the commit time of the last transaction the replica had
 * replayed. When a read sees that position advance past what the previous read saw, the newer
 * commit was applied between the previous read's start and this read's end; when those are close
 * together, that commit's apply delay is known to within their distance.
 *
 * <p>This is what a busy vanilla-PostgreSQL standby otherwise hides (it is always mid-apply, so
 * "caught up or not" never measures anything): without it the first changes after a node starts
 * race the replica until tripwire observations have raised the estimate.
 */
final class ReplayBracket {

  /** Reads further apart than this bracket an apply too loosely to count as a measurement. */
  static final long MAX_WIDTH_MS = 25;

  private long lastStartMs = Long.MIN_VALUE;
  private long lastReplayedAtMs = Long.MIN_VALUE;

  /**
   * @param startMs when this read was sent
   * @param endMs when it returned
   * @param replayedAtMs the commit time of the replica's last replayed transaction it saw
   * @return the apply delay of that commit (the bracket's midpoint), when this read and the
   *     previous one bracket its apply tightly enough
   */
  OptionalLong onRead(long startMs, long endMs, long replayedAtMs) {
    OptionalLong sample = OptionalLong.empty();
    if (lastStartMs != Long.MIN_VALUE && replayedAtMs > lastReplayedAtMs && startMs >= lastStartMs
        && endMs - lastStartMs <= MAX_WIDTH_MS) {
      sample = OptionalLong.of(Math.max(0, (lastStartMs + endMs) / 2 - replayedAtMs));
    }
    if (startMs >= lastStartMs) {
      lastStartMs = startMs;
      lastReplayedAtMs = Math.max(lastReplayedAtMs, replayedAtMs);
    }
    return sample;
  }
}
