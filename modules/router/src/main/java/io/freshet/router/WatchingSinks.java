package io.freshet.router;

import io.freshet.core.feed.FeedProtocol.Push;
import io.freshet.core.feed.LogSlice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The web edge instances ("sinks") whose SSE sessions watch each log. When logs grow, each sink
 * gets one push message per delivery round listing every slice of every log it watches (not one
 * per session, and not one per log); the sink writes each slice to its sessions on that log. A
 * sink that stops refreshing its registrations (its node left) is forgotten.
 */
final class WatchingSinks {

  /** Sends one sink its pushes. */
  interface Pusher {
    void push(String sink, List<Push> pushes);
  }

  private final Pusher pusher;
  /** Per log: sink → when it last registered or refreshed. */
  private final Map<FeedLog, Map<String, Long>> byLog = new HashMap<>();
  private final Map<String, List<Push>> outbox = new LinkedHashMap<>();
  private int registrations;

  WatchingSinks(Pusher pusher) {
    this.pusher = pusher;
  }

  void watch(FeedLog log, String sink, long nowMs) {
    if (byLog.computeIfAbsent(log, k -> new HashMap<>()).put(sink, nowMs) == null) {
      registrations++;
    }
  }

  void unwatch(FeedLog log, String sink) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks != null && sinks.remove(sink) != null) {
      registrations--;
      if (sinks.isEmpty()) {
        byLog.remove(log);
      }
    }
  }

  /** Keeps {@code sink}'s registration on {@code log}; false when it had none (it re-registers). */
  boolean refresh(FeedLog log, String sink, long nowMs) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks == null || !sinks.containsKey(sink)) {
      return false;
    }
    sinks.put(sink, nowMs);
    return true;
  }

  boolean any(FeedLog log) {
    return byLog.containsKey(log);
  }

  /** {@code log} grew by {@code slice}: queued for each sink watching it until {@link #flush}. */
  void grew(FeedLog log, LogSlice slice) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks == null) {
      return;
    }
    Push push = new Push(log.handle, slice);
    for (String sink : sinks.keySet()) {
      outbox.computeIfAbsent(sink, k -> new ArrayList<>()).add(push);
    }
  }

  /** Sends what {@link #grew} queued: one message per sink. */
  void flush() {
    if (outbox.isEmpty()) {
      return;
    }
    List<Map.Entry<String, List<Push>>> batch = new ArrayList<>(outbox.entrySet());
    outbox.clear();
    for (Map.Entry<String, List<Push>> entry : batch) {
      pusher.push(entry.getKey(), entry.getValue());
    }
  }

  /** Forgets every sink of {@code log} (the log is going away). */
  void dropAll(FeedLog log) {
    Map<String, Long> sinks = byLog.remove(log);
    if (sinks != null) {
      registrations -= sinks.size();
    }
  }

  /** Forgets registrations not refreshed since {@code beforeMs}. */
  void expire(long beforeMs) {
    Iterator<Map.Entry<FeedLog, Map<String, Long>>> logs = byLog.entrySet().iterator();
    while (logs.hasNext()) {
      Map<String, Long> sinks = logs.next().getValue();
      int before = sinks.size();
      sinks.values().removeIf(at -> at < beforeMs);
      registrations -= before - sinks.size();
      if (sinks.isEmpty()) {
        logs.remove();
      }
    }
  }

  int registrations() {
    return registrations;
  }
}
