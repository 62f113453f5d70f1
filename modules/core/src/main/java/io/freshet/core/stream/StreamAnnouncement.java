package io.freshet.core.stream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * What the writer side publishes on the clustered bus after each commit of an environment's
 * streams: per stream, the last seq now committed and the primary's clock at that commit (the
 * watermark readers gate replica reads on), whether the stream is closed; and the runs that ended
 * (every stream of theirs is complete, even one never written to). Chunk content is never on the
 * bus: readers read it from their replica, as run rows are.
 */
public record StreamAnnouncement(String envId, List<Item> items, List<String> endedRuns) {

  /** One stream's state after the commit; {@code lastSeq} is -1 for a stream without chunks. */
  public record Item(String runId, String key, long lastSeq, long atMs, boolean closed) {}

  public JsonObject toJson() {
    JsonArray streams = new JsonArray();
    for (Item item : items) {
      streams.add(new JsonArray().add(item.runId).add(item.key).add(item.lastSeq).add(item.atMs).add(item.closed));
    }
    return new JsonObject().put("env", envId).put("streams", streams).put("ended", new JsonArray(new ArrayList<>(endedRuns)));
  }

  public static StreamAnnouncement fromJson(JsonObject json) {
    List<Item> items = new ArrayList<>();
    JsonArray streams = json.getJsonArray("streams", new JsonArray());
    for (int i = 0; i < streams.size(); i++) {
      JsonArray s = streams.getJsonArray(i);
      items.add(new Item(s.getString(0), s.getString(1), s.getLong(2), s.getLong(3), s.getBoolean(4)));
    }
    List<String> ended = new ArrayList<>();
    json.getJsonArray("ended", new JsonArray()).forEach(run -> ended.add((String) run));
    return new StreamAnnouncement(json.getString("env"), items, ended);
  }
}
