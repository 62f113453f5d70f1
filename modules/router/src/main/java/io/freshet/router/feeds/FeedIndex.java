package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.producer.ChangeRecord;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An environment's feed logs, indexed by run id, by tag and by batch, so that a change record (or a
 * hydrated row) reaches only the logs it may concern. Each log then decides with its filter.
 */
final class FeedIndex {

  private final Map<String, Set<FeedLog>> byRun = new HashMap<>();
  private final Map<String, Set<FeedLog>> byTag = new HashMap<>();
  private final Set<FeedLog> untagged = new HashSet<>();
  private final Map<String, Set<FeedLog>> byBatch = new HashMap<>();
  private final Set<FeedLog> logs = new HashSet<>();

  void register(FeedLog log) {
    logs.add(log);
    if (log.filter instanceof FeedFilter.Run run) {
      byRun.computeIfAbsent(run.runId(), k -> new HashSet<>()).add(log);
    } else if (log.filter instanceof FeedFilter.Tags tags) {
      if (tags.tags().isEmpty()) {
        untagged.add(log);
      } else {
        for (String tag : tags.tags()) {
          byTag.computeIfAbsent(tag, k -> new HashSet<>()).add(log);
        }
      }
    } else if (log.filter instanceof FeedFilter.Batch batch) {
      byBatch.computeIfAbsent(batch.batchId(), k -> new HashSet<>()).add(log);
    }
  }

  void unregister(FeedLog log) {
    logs.remove(log);
    if (log.filter instanceof FeedFilter.Run run) {
      removeFrom(byRun, run.runId(), log);
    } else if (log.filter instanceof FeedFilter.Tags tags) {
      untagged.remove(log);
      for (String tag : tags.tags()) {
        removeFrom(byTag, tag, log);
      }
    } else if (log.filter instanceof FeedFilter.Batch batch) {
      removeFrom(byBatch, batch.batchId(), log);
    }
  }

  int size() {
    return logs.size();
  }

  boolean isEmpty() {
    return logs.isEmpty();
  }

  /** Feeds a record may concern, before hydration. */
  Set<FeedLog> candidates(ChangeRecord record) {
    Set<FeedLog> out = new HashSet<>(byRun.getOrDefault(record.runId(), Set.of()));
    if (record.isFull()) {
      for (String tag : record.tags()) {
        for (FeedLog log : byTag.getOrDefault(tag, Set.of())) {
          if (log.filter.mayMatch(record)) {
            out.add(log);
          }
        }
      }
      out.addAll(untagged);
      if (record.batchId() != null) {
        out.addAll(byBatch.getOrDefault(record.batchId(), Set.of()));
      }
    } else {
      // A partial record: its tags and batch are unknown until the row is read.
      byTag.values().forEach(out::addAll);
      out.addAll(untagged);
      byBatch.values().forEach(out::addAll);
    }
    return out;
  }

  /** Feeds a hydrated row may concern; each decides with its filter. */
  Set<FeedLog> candidates(RunRow row) {
    Set<FeedLog> out = new HashSet<>(byRun.getOrDefault(row.runId(), Set.of()));
    for (String tag : row.tags()) {
      out.addAll(byTag.getOrDefault(tag, Set.of()));
    }
    out.addAll(untagged);
    if (row.batchId() != null) {
      out.addAll(byBatch.getOrDefault(row.batchId(), Set.of()));
    }
    return out;
  }

  private static void removeFrom(Map<String, Set<FeedLog>> index, String key, FeedLog log) {
    Set<FeedLog> set = index.get(key);
    if (set != null) {
      set.remove(log);
      if (set.isEmpty()) {
        index.remove(key);
      }
    }
  }
}
