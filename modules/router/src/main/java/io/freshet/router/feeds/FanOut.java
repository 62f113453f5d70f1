package io.freshet.router.feeds;

import io.freshet.core.feed.LogSlice;
import io.freshet.router.push.Sinks;

/**
 * Who hears of a log's growth: the long-polls held on it (each answered with the new entry's
 * slice, one encoding for all of them) and the web edge instances whose SSE sessions follow it
 * (pushed to, one message per instance and delivery round).
 */
final class FanOut {

  private final HeldPolls held;
  private final Sinks sinks;
  private final RouterMetrics metrics;

  FanOut(HeldPolls held, Sinks sinks, RouterMetrics metrics) {
    this.held = held;
    this.sinks = sinks;
    this.metrics = metrics;
  }

  /** {@code live} grew by {@code slice}: its held polls are answered, its sinks get it with the next {@link #flush}. */
  void grew(LiveLog live, LogSlice slice) {
    int answered = held.answer(live.log, slice);
    for (int i = 0; i < answered; i++) {
      metrics.livePoll("delivered");
    }
    sinks.grew(live.handle(), slice, false);
  }

  /** Sends this round's pushes. */
  void flush() {
    sinks.flush();
  }

  /** Whether anyone is listening: a held poll or a following sink. */
  boolean listened(LiveLog live) {
    return held.any(live.log) || sinks.any(live.handle());
  }

  boolean followed(LiveLog live) {
    return sinks.any(live.handle());
  }

  /** The log is going away: its polls are answered as they are, its sinks forgotten. */
  void release(LiveLog live) {
    held.releaseAll(live.log);
    sinks.dropAll(live.handle());
  }

  HeldPolls held() {
    return held;
  }

  Sinks sinks() {
    return sinks;
  }
}
