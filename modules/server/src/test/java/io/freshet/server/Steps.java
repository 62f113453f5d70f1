package io.freshet.server;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A run's metadata written as numbered steps, and when a follower first held each one: what the stall and replica tests measure. */
final class Steps {

  private Steps() {}

  /** The step a delivery carries, or null. */
  static Integer of(FeedFollower.Delivery d) {
    return d.metadata() == null ? null : d.metadata().getInteger("step");
  }

  /** Writes steps {@code from..to} every {@code gapMs} (pacing a writer, not waiting for the server); returns each step's commit time. */
  static TreeMap<Integer, Long> write(Http http, String runId, int from, int to, long gapMs) {
    TreeMap<Integer, Long> committed = new TreeMap<>();
    for (int s = from; s <= to; s++) {
      http.setMetadata(runId, new JsonObject().put("step", s));
      committed.put(s, System.currentTimeMillis());
      FeedFollower.sleep(gapMs);
    }
    return committed;
  }

  /** For each step, when a row carrying it or a later step first arrived, minus its commit (null: never). */
  static List<Long> coverage(List<FeedFollower.Delivery> deliveries, Map<Integer, Long> committed) {
    List<Long> out = new ArrayList<>();
    committed.forEach((s, at) -> deliveries.stream().filter(d -> of(d) != null && of(d) >= s).findFirst()
        .ifPresentOrElse(d -> out.add(d.atMs() - at), () -> out.add(null)));
    return out;
  }
}
