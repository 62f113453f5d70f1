package io.freshet.router.feeds;

import io.freshet.core.feed.LogSlice;
import io.freshet.core.time.Scheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live long-polls waiting at the end of their log, each until the log grows or its hold ends. When
 * a log grows, every poll held on it is answered with the same slice: one encoding, whatever the
 * number of clients.
 */
final class HeldPolls {

  /** A held poll: where its answer goes, and its hold timer. */
  record Held(String pollId, PollReply reply, long timerId) {}

  private final Scheduler scheduler;
  private final Map<FeedLog, Map<String, Held>> byLog = new HashMap<>();
  private int count;

  HeldPolls(Scheduler scheduler) {
    this.scheduler = scheduler;
  }

  /** Holds a poll at the end of {@code log} for {@code holdMs}; then {@code onHoldEnded} answers it. */
  void hold(FeedLog log, String pollId, PollReply reply, long holdMs, Runnable onHoldEnded) {
    long timer = scheduler.after(holdMs, onHoldEnded);
    Held previous = byLog.computeIfAbsent(log, k -> new LinkedHashMap<>()).put(pollId, new Held(pollId, reply, timer));
    count++;
    if (previous != null) {
      count--;
      scheduler.cancel(previous.timerId());
      previous.reply().answer(log.handle, LogSlice.unchanged(log.seq()));
    }
  }

  /** Removes a held poll (hold ended, client gone); returns it, or null. */
  Held release(FeedLog log, String pollId) {
    Map<String, Held> held = byLog.get(log);
    Held h = held == null ? null : held.remove(pollId);
    if (h != null) {
      count--;
      scheduler.cancel(h.timerId());
      if (held.isEmpty()) {
        byLog.remove(log);
      }
    }
    return h;
  }

  /** The log grew by {@code slice}: answers every poll held on it; returns how many. */
  int answer(FeedLog log, LogSlice slice) {
    Map<String, Held> held = byLog.remove(log);
    if (held == null) {
      return 0;
    }
    for (Held h : held.values()) {
      scheduler.cancel(h.timerId());
      h.reply().answer(log.handle, slice);
    }
    count -= held.size();
    return held.size();
  }

  /** Answers every poll held on {@code log} with no change (the log is going away). */
  void releaseAll(FeedLog log) {
    Map<String, Held> held = byLog.remove(log);
    if (held == null) {
      return;
    }
    List<Held> all = new ArrayList<>(held.values());
    count -= all.size();
    for (Held h : all) {
      scheduler.cancel(h.timerId());
      h.reply().answer(log.handle, LogSlice.unchanged(log.seq()));
    }
  }

  boolean any(FeedLog log) {
    return byLog.containsKey(log);
  }

  int count() {
    return count;
  }
}
