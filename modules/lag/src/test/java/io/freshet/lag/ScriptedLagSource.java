package io.freshet.lag;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/** A lag source that answers from a script; when the script runs out it repeats its last answer. */
final class ScriptedLagSource implements LagSource {

  private final String name;
  private final Deque<Supplier<Future<Long>>> script = new ArrayDeque<>();
  private Supplier<Future<Long>> last = () -> Future.succeededFuture(null);
  final List<Promise<Long>> pending = new ArrayList<>();
  int calls;

  ScriptedLagSource(String name) {
    this.name = name;
  }

  ScriptedLagSource thenMeasures(Long lagMs) {
    script.add(() -> Future.succeededFuture(lagMs));
    return this;
  }

  ScriptedLagSource thenFails(String message) {
    script.add(() -> Future.failedFuture(new IllegalStateException(message)));
    return this;
  }

  ScriptedLagSource thenUnsupported() {
    script.add(() -> Future.failedFuture(new UnsupportedLagSourceException(name + " unsupported")));
    return this;
  }

  ScriptedLagSource thenThrows(String message) {
    script.add(() -> {
      throw new IllegalStateException(message);
    });
    return this;
  }

  /** The sample stays in flight until the test completes {@link #pending}. */
  ScriptedLagSource thenHangs() {
    script.add(() -> {
      Promise<Long> promise = Promise.promise();
      pending.add(promise);
      return promise.future();
    });
    return this;
  }

  @Override
  public Future<Long> sample() {
    calls++;
    if (!script.isEmpty()) {
      last = script.poll();
    }
    return last.get();
  }

  @Override
  public String name() {
    return name;
  }
}
