package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The flusher's buffering against a scripted writer: no Vert.x, no database. */
class MetadataFlusherTest {

  record Write(String envId, String runId, List<MetadataOperation> ops, Promise<Boolean> result) {}

  final List<Write> writes = new ArrayList<>();
  final MetadataFlusher flusher = new MetadataFlusher((envId, runId, ops) -> {
    Promise<Boolean> promise = Promise.promise();
    writes.add(new Write(envId, runId, ops, promise));
    return promise.future();
  });

  static MetadataOperation inc(String key) {
    return MetadataOperation.increment(key, 1);
  }

  @Test
  void flushWritesEachRunOnceWithItsOperationsInArrivalOrder() {
    flusher.enqueue("env", "run_a", List.of(inc("x")));
    flusher.enqueue("env", "run_b", List.of(inc("y")));
    flusher.enqueue("env", "run_a", List.of(MetadataOperation.set("z", 1), inc("x")));

    flusher.flush();

    assertThat(writes).hasSize(2);
    assertThat(writes.get(0).runId()).isEqualTo("run_a");
    assertThat(writes.get(0).ops()).containsExactly(inc("x"), MetadataOperation.set("z", 1), inc("x"));
    assertThat(writes.get(1).runId()).isEqualTo("run_b");
    assertThat(flusher.pendingRuns()).isZero();
  }

  @Test
  void emptyOperationListsBufferNothing() {
    flusher.enqueue("env", "run_a", List.of());

    flusher.flush();

    assertThat(writes).isEmpty();
  }

  @Test
  void transientFailureRebuffersOperationsAheadOfNewerOnes() {
    flusher.enqueue("env", "run_a", List.of(inc("first")));
    Future<Void> flush = flusher.flush();
    flusher.enqueue("env", "run_a", List.of(inc("second")));

    writes.get(0).result().fail(new IllegalStateException("connection reset"));

    assertThat(flush.succeeded()).isTrue();
    assertThat(flusher.pending("env", "run_a")).containsExactly(inc("first"), inc("second"));
    flusher.flush();
    assertThat(writes.get(1).ops()).containsExactly(inc("first"), inc("second"));
  }

  @Test
  void overloadedWriteIsRetriedOnTheNextFlush() {
    flusher.enqueue("env", "run_a", List.of(inc("x")));
    flusher.flush();

    writes.get(0).result().fail(new FreshetException(503, "busy"));

    assertThat(flusher.pending("env", "run_a")).containsExactly(inc("x"));
  }

  @Test
  void permanentFailureDropsTheOperations() {
    flusher.enqueue("env", "run_gone", List.of(inc("x")));
    flusher.flush();

    writes.get(0).result().fail(FreshetException.notFound("Run not found"));

    assertThat(flusher.pendingRuns()).isZero();
  }

  @Test
  void aFlushDoesNotOverlapTheOneStillRunning() {
    flusher.enqueue("env", "run_a", List.of(inc("x")));
    Future<Void> first = flusher.flush();
    flusher.enqueue("env", "run_a", List.of(inc("y")));

    Future<Void> second = flusher.flush();

    assertThat(writes).hasSize(1);
    assertThat(first.isComplete()).isFalse();
    assertThat(second.isComplete()).isFalse();
    writes.get(0).result().complete(true);
    assertThat(first.succeeded()).isTrue();
    flusher.flush();
    assertThat(writes).hasSize(2);
    assertThat(writes.get(1).ops()).containsExactly(inc("y"));
  }

  @Test
  void runsOfDifferentEnvironmentsAreKeptApart() {
    flusher.enqueue("env1", "run_a", List.of(inc("x")));
    flusher.enqueue("env2", "run_a", List.of(inc("y")));

    flusher.flush();

    assertThat(writes).extracting(Write::envId).containsExactly("env1", "env2");
  }
}
