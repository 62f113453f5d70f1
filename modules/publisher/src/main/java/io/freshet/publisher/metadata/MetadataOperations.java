package io.freshet.publisher.metadata;

import io.freshet.core.write.metadata.JsonValues;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies a run's metadata operations with the exact results of the SDK 4.8.3's
 * {@code applyMetadataOperations}, so a client's local copy and the server's stored copy agree.
 * The operations arrive parsed ({@link MetadataOperation#parseAll}, at the edge).
 */
public final class MetadataOperations {

  /**
   * The outcome of one batch. {@code unapplied} lists the operations the SDK would report back
   * (unknown type, remove from a non-array, unsafe key). {@code changed} is false when the result
   * equals the input, so the caller can skip the write and the publish.
   */
  public record Result(JsonObject metadata, List<MetadataOperation> unapplied, boolean changed) {}

  private MetadataOperations() {}

  /** Runs {@code ops} in order against a deep copy of {@code current}, which is left untouched. */
  public static Result apply(JsonObject current, List<MetadataOperation> ops) {
    MetadataEditor editor = new MetadataEditor(current.copy());
    List<MetadataOperation> unapplied = new ArrayList<>();
    for (MetadataOperation op : ops) {
      if (!editor.apply(op)) {
        unapplied.add(op);
      }
    }
    JsonObject result = editor.metadata();
    return new Result(result, List.copyOf(unapplied), !JsonValues.deepEquals(current, result));
  }
}
