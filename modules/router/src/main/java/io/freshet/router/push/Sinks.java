package io.freshet.router.push;

import io.freshet.core.push.PushProtocol.Push;
import io.freshet.core.push.PushProtocol.Pushes;
import io.freshet.core.push.Slice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The web edge instances ("sinks") whose SSE sessions follow each log of one owner (a router's feed
 * logs, a node's streams), and what to push them. When logs grow, each sink gets one message per
 * delivery round listing every slice of every log it follows (not one per session, and not one per
 * log); the sink writes each slice to its sessions on that log. A sink that stops refreshing its
 * registrations (its node left) is forgotten.
 */
public final class Sinks {

  /** Sends one sink a round's pushes. */
  public interface Sender {
    void send(String sink, Pushes pushes);
  }

  private final Sender sender;
  /** Per log id: sink → when it last followed or refreshed. */
  private final Map<String, Map<String, Long>> byLog = new HashMap<>();
  private final Map<String, List<Push>> outbox = new LinkedHashMap<>();
  private int registrations;

  public Sinks(Sender sender) {
    this.sender = sender;
  }

  public void follow(String log, String sink, long nowMs) {
    if (byLog.computeIfAbsent(log, k -> new HashMap<>()).put(sink, nowMs) == null) {
      registrations++;
    }
  }

  /** Forgets {@code sink} on {@code log}; returns whether the log has no sink left. */
  public boolean unfollow(String log, String sink) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks != null && sinks.remove(sink) != null) {
      registrations--;
      if (sinks.isEmpty()) {
        byLog.remove(log);
      }
    }
    return !byLog.containsKey(log);
  }

  /** Keeps {@code sink}'s registration on {@code log}; false when it had none (it follows again). */
  public boolean refresh(String log, String sink, long nowMs) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks == null || !sinks.containsKey(sink)) {
      return false;
    }
    sinks.put(sink, nowMs);
    return true;
  }

  /** The sinks following {@code log}. */
  public Set<String> following(String log) {
    Map<String, Long> sinks = byLog.get(log);
    return sinks == null ? Set.of() : Set.copyOf(sinks.keySet());
  }

  public boolean any(String log) {
    return byLog.containsKey(log);
  }

  /** {@code log} grew by {@code slice}: queued for each sink following it until {@link #flush}. */
  public void grew(String log, Slice slice, boolean complete) {
    Map<String, Long> sinks = byLog.get(log);
    if (sinks == null) {
      return;
    }
    Push push = new Push(log, slice, complete);
    for (String sink : sinks.keySet()) {
      outbox.computeIfAbsent(sink, k -> new ArrayList<>()).add(push);
    }
  }

  /** Sends what {@link #grew} queued: one message per sink. */
  public void flush() {
    if (outbox.isEmpty()) {
      return;
    }
    List<Map.Entry<String, List<Push>>> batch = new ArrayList<>(outbox.entrySet());
    outbox.clear();
    for (Map.Entry<String, List<Push>> entry : batch) {
      sender.send(entry.getKey(), new Pushes(entry.getValue()));
    }
  }

  /** Forgets every sink of {@code log} (the log is going away). */
  public void dropAll(String log) {
    Map<String, Long> sinks = byLog.remove(log);
    if (sinks != null) {
      registrations -= sinks.size();
    }
  }

  /** Forgets registrations not refreshed since {@code beforeMs}; returns the logs left with no sink. */
  public Set<String> expire(long beforeMs) {
    Set<String> orphaned = new java.util.HashSet<>();
    Iterator<Map.Entry<String, Map<String, Long>>> logs = byLog.entrySet().iterator();
    while (logs.hasNext()) {
      Map.Entry<String, Map<String, Long>> entry = logs.next();
      Map<String, Long> sinks = entry.getValue();
      int before = sinks.size();
      sinks.values().removeIf(at -> at < beforeMs);
      registrations -= before - sinks.size();
      if (sinks.isEmpty()) {
        logs.remove();
        orphaned.add(entry.getKey());
      }
    }
    return orphaned;
  }

  public int registrations() {
    return registrations;
  }
}
