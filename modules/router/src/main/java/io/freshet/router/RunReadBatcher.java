package io.freshet.router;

import io.freshet.core.RunRow;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Feed reads of single runs (snapshots, backstops, re-reads) from one environment, batched: reads
 * asked for in the same tick share one query. Thousands of run feeds opened or ending their hold
 * together cost a handful of queries, not thousands.
 */
final class RunReadBatcher {

  private final String envId;
  private final RunSource source;
  private final Scheduler scheduler;
  private final int batchMax;
  private final RouterMetrics metrics;
  private final Map<String, List<Promise<RunRow>>> pending = new LinkedHashMap<>();
  private long timer = -1;

  RunReadBatcher(String envId, RunSource source, Scheduler scheduler, int batchMax, RouterMetrics metrics) {
    this.envId = envId;
    this.source = source;
    this.scheduler = scheduler;
    this.batchMax = batchMax;
    this.metrics = metrics;
  }

  /** Reads one run for a feed; reads requested in the same tick share one query. */
  Future<RunRow> read(String runId) {
    Promise<RunRow> promise = Promise.promise();
    pending.computeIfAbsent(runId, k -> new ArrayList<>()).add(promise);
    if (pending.size() >= batchMax) {
      flush();
    } else if (timer < 0) {
      timer = scheduler.schedule(1, this::flush);
    }
    return promise.future();
  }

  private void flush() {
    if (timer >= 0) {
      scheduler.cancel(timer);
      timer = -1;
    }
    if (pending.isEmpty()) {
      return;
    }
    Map<String, List<Promise<RunRow>>> batch = new LinkedHashMap<>(pending);
    pending.clear();
    metrics.hydrateQuery("feed-read");
    source.byIds(envId, batch.keySet()).onComplete(ar -> {
      Map<String, RunRow> rows = new HashMap<>();
      if (ar.succeeded()) {
        ar.result().rows().forEach(r -> rows.put(r.runId(), r));
      }
      batch.forEach((run, promises) -> promises.forEach(p -> {
        if (ar.succeeded()) {
          p.complete(rows.get(run));
        } else {
          p.fail(ar.cause());
        }
      }));
    });
  }
}
