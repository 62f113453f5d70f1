package io.freshet.router;

import io.freshet.core.RunRow;
import io.freshet.producer.ChangeRecord;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An environment's held feeds, indexed by run id, by tag and by batch, so that a change record (or
 * a hydrated row) reaches only the feeds it may concern. Each feed then decides with its filter.
 */
final class FeedIndex {

  private final Map<String, Set<Shape>> byRun = new HashMap<>();
  private final Map<String, Set<Shape>> byTag = new HashMap<>();
  private final Set<Shape> untagged = new HashSet<>();
  private final Map<String, Set<Shape>> byBatch = new HashMap<>();
  private final Set<Shape> shapes = new HashSet<>();

  void register(Shape shape) {
    shapes.add(shape);
    if (shape.filter instanceof FeedFilter.Run run) {
      byRun.computeIfAbsent(run.runId(), k -> new HashSet<>()).add(shape);
    } else if (shape.filter instanceof FeedFilter.Tags tags) {
      if (tags.tags().isEmpty()) {
        untagged.add(shape);
      } else {
        for (String tag : tags.tags()) {
          byTag.computeIfAbsent(tag, k -> new HashSet<>()).add(shape);
        }
      }
    } else if (shape.filter instanceof FeedFilter.Batch batch) {
      byBatch.computeIfAbsent(batch.batchId(), k -> new HashSet<>()).add(shape);
    }
  }

  void unregister(Shape shape) {
    shapes.remove(shape);
    if (shape.filter instanceof FeedFilter.Run run) {
      removeFrom(byRun, run.runId(), shape);
    } else if (shape.filter instanceof FeedFilter.Tags tags) {
      untagged.remove(shape);
      for (String tag : tags.tags()) {
        removeFrom(byTag, tag, shape);
      }
    } else if (shape.filter instanceof FeedFilter.Batch batch) {
      removeFrom(byBatch, batch.batchId(), shape);
    }
  }

  boolean isEmpty() {
    return shapes.isEmpty();
  }

  /** Feeds a record may concern, before hydration. */
  Set<Shape> candidates(ChangeRecord record) {
    Set<Shape> out = new HashSet<>(byRun.getOrDefault(record.runId(), Set.of()));
    if (record.isFull()) {
      for (String tag : record.tags()) {
        for (Shape shape : byTag.getOrDefault(tag, Set.of())) {
          if (shape.filter.mayMatch(record)) {
            out.add(shape);
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
  Set<Shape> candidates(RunRow row) {
    Set<Shape> out = new HashSet<>(byRun.getOrDefault(row.runId(), Set.of()));
    for (String tag : row.tags()) {
      out.addAll(byTag.getOrDefault(tag, Set.of()));
    }
    out.addAll(untagged);
    if (row.batchId() != null) {
      out.addAll(byBatch.getOrDefault(row.batchId(), Set.of()));
    }
    return out;
  }

  private static void removeFrom(Map<String, Set<Shape>> index, String key, Shape shape) {
    Set<Shape> set = index.get(key);
    if (set != null) {
      set.remove(shape);
      if (set.isEmpty()) {
        index.remove(key);
      }
    }
  }
}
