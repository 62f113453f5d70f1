package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers the parent and root metadata operations that requests carry, and writes them in one
 * go per run on each flush. A parent with many children updating its progress then costs one write
 * (and one change record) per flush instead of one per child request.
 *
 * <p>Operations for a run are kept in arrival order. A write that fails for a transient reason
 * puts its operations back ahead of any that arrived meanwhile, so nothing is lost or reordered;
 * a permanent failure (the run is gone, finished long ago, or its document would be too large)
 * drops them, since retrying could never succeed.
 *
 * <p>Not thread-safe: call it from one context (the publisher verticle's).
 */
final class MetadataFlusher {

  private static final Logger log = LoggerFactory.getLogger(MetadataFlusher.class);

  /** Applies one run's operations in one write and publishes if it wrote; true when the run changed. */
  @FunctionalInterface
  interface Writer {
    Future<Boolean> write(String envId, String runId, List<MetadataOperation> ops);
  }

  record RunKey(String envId, String runId) {}

  private final Writer writer;
  private Map<RunKey, List<MetadataOperation>> pending = new LinkedHashMap<>();
  private Future<Void> inFlight;

  MetadataFlusher(Writer writer) {
    this.writer = writer;
  }

  void enqueue(String envId, String runId, List<MetadataOperation> ops) {
    if (!ops.isEmpty()) {
      pending.computeIfAbsent(new RunKey(envId, runId), k -> new ArrayList<>()).addAll(ops);
    }
  }

  /** Buffered operations for a run, oldest first (for tests and metrics). */
  List<MetadataOperation> pending(String envId, String runId) {
    return List.copyOf(pending.getOrDefault(new RunKey(envId, runId), List.of()));
  }

  int pendingRuns() {
    return pending.size();
  }

  /**
   * Writes everything buffered so far, one write per run. While a flush is running, another call
   * returns that flush rather than starting an overlapping one for the same runs.
   */
  Future<Void> flush() {
    if (inFlight != null) {
      return inFlight;
    }
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<RunKey, List<MetadataOperation>> batch = pending;
    pending = new LinkedHashMap<>();
    List<Future<?>> writes = new ArrayList<>(batch.size());
    for (Map.Entry<RunKey, List<MetadataOperation>> entry : batch.entrySet()) {
      RunKey key = entry.getKey();
      List<MetadataOperation> ops = entry.getValue();
      Future<Boolean> write;
      try {
        write = writer.write(key.envId(), key.runId(), List.copyOf(ops));
      } catch (RuntimeException e) {
        write = Future.failedFuture(e);
      }
      writes.add(write.recover(failure -> {
        onFailure(key, ops, failure);
        return Future.succeededFuture(false);
      }));
    }
    Future<Void> flush = Future.join(writes).mapEmpty();
    inFlight = flush;
    return flush.eventually(() -> {
      inFlight = null;
      return Future.succeededFuture();
    });
  }

  private void onFailure(RunKey key, List<MetadataOperation> ops, Throwable failure) {
    if (failure instanceof FreshetException e && e.status() >= 400 && e.status() < 500) {
      log.warn("dropped {} buffered metadata operations for run {}: {}", ops.size(), key.runId(), e.getMessage());
      return;
    }
    log.debug("metadata flush for run {} failed, keeping its operations: {}", key.runId(), failure.toString());
    List<MetadataOperation> newer = pending.remove(key);
    List<MetadataOperation> requeued = new ArrayList<>(ops);
    if (newer != null) {
      requeued.addAll(newer);
    }
    pending.put(key, requeued);
  }
}
