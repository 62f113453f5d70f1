package io.freshet.router.feeds;

import io.freshet.core.RunRow;
import io.freshet.router.engine.ReadSource;
import io.freshet.store.RunReads;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Run rows as the gated read sees them: a key is a run of one environment, a read reaches the
 * row's version ({@code updatedAt}, what its change record's watermark is checked against), and a
 * row older than the change it was read for is the previous content, held back by the engine.
 */
final class RunReadSource implements ReadSource<String, RunRow> {

  private final String envId;
  private final RunSource source;

  RunReadSource(String envId, RunSource source) {
    this.envId = envId;
    this.source = source;
  }

  @Override
  public Future<Readings<String, RunRow>> read(Collection<String> runIds, Where where, int replica) {
    Future<RunReads.Hydration> read = where == Where.PRIMARY ? source.primaryByIds(envId, runIds) : source.byIds(envId, runIds, replica);
    return read.map(hydration -> {
      Map<String, Reading<RunRow>> byRun = new HashMap<>();
      for (RunRow row : hydration.rows()) {
        byRun.put(row.runId(), Reading.of(row, row.updatedAtMs()));
      }
      return new Readings<>(byRun, hydration.replayedAtMs());
    });
  }

  @Override
  public boolean deliversPrefix() {
    return false;
  }
}
