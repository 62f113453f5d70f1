package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.core.time.Scheduler;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Feed reads of single runs (snapshots, backstops, re-reads) from one environment, batched: reads
 * asked for in the same tick share one query. Thousands of run feeds opened or backstopped
 * together cost a handful of queries, not thousands.
 */
final class RunReadBatcher {

  private final Function<Collection<String>, Future<RunReads.Hydration>> read;
  private final Scheduler scheduler;
  private final int batchMax;
  private final Map<String, List<Promise<RunRow>>> pending = new LinkedHashMap<>();
  private long timer = -1;

  RunReadBatcher(Function<Collection<String>, Future<RunReads.Hydration>> read, Scheduler scheduler, int batchMax) {
    this.read = read;
    this.scheduler = scheduler;
    this.batchMax = batchMax;
  }

  /** Reads one run; reads requested in the same tick share one query. Null when it does not exist. */
  Future<RunRow> read(String runId) {
    Promise<RunRow> promise = Promise.promise();
    pending.computeIfAbsent(runId, k -> new ArrayList<>()).add(promise);
    if (pending.size() >= batchMax) {
      flush();
    } else if (timer < 0) {
      timer = scheduler.after(1, this::flush);
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
    read.apply(batch.keySet()).onComplete(ar -> {
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
