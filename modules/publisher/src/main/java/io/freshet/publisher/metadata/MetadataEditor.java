package io.freshet.publisher.metadata;

import io.freshet.core.write.metadata.JsonValues;
import io.freshet.core.write.metadata.MetadataKey;
import io.freshet.core.write.metadata.MetadataOperation;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Applies operations one at a time to a working copy, mirroring the SDK's
 * {@code applyMetadataOperations} switch. Each method answers whether the operation counts as
 * applied; "applied" includes the SDK's silent no-ops, which are not reported back.
 */
final class MetadataEditor {

  private JsonObject metadata;

  MetadataEditor(JsonObject working) {
    this.metadata = working;
  }

  JsonObject metadata() {
    return metadata;
  }

  boolean apply(MetadataOperation op) {
    if (op.kind() == MetadataOperation.Kind.UPDATE) {
      return update(op.value());
    }
    // Parsing already refuses these; this guards operations built in code.
    if (op.key() == null || MetadataKey.problem(op.key()) != null) {
      return false;
    }
    return switch (op.kind()) {
      case SET -> set(op.key(), op.value());
      case DELETE -> delete(op.key());
      case APPEND -> append(op.key(), op.value());
      case REMOVE -> remove(op.key(), op.value());
      case INCREMENT -> increment(op.key(), (Number) op.value());
      default -> false;
    };
  }

  private boolean update(Object value) {
    if (!(value instanceof JsonObject replacement)) {
      return false;
    }
    metadata = replacement.copy();
    return true;
  }

  private boolean set(String key, Object value) {
    if (MetadataKey.isPath(key)) {
      MetadataPath.parse(key).set(metadata, value);
    } else {
      metadata.put(key, JsonValues.copy(value));
    }
    return true;
  }

  /** Always literal: a {@code $.} key here names a top-level field spelled that way. */
  private boolean delete(String key) {
    metadata.remove(key);
    return true;
  }

  private boolean append(String key, Object value) {
    if (MetadataKey.isPath(key)) {
      MetadataPath path = MetadataPath.parse(key);
      Object current = path.first(metadata);
      // When nothing matched, current is null and the set below finds no place to write.
      path.set(metadata, appended(current, value));
      return true;
    }
    Object current = metadata.containsKey(key) ? metadata.getValue(key) : MetadataPath.UNDEFINED;
    if (current instanceof JsonArray array) {
      array.add(JsonValues.copy(value));
    } else {
      // A literal key holding null becomes [null, value]: the SDK only special-cases undefined.
      metadata.put(key, appended(current, value));
    }
    return true;
  }

  private static JsonArray appended(Object current, Object value) {
    JsonArray result = new JsonArray();
    if (current instanceof JsonArray array) {
      result.addAll(array.copy());
    } else if (current != MetadataPath.UNDEFINED) {
      result.add(JsonValues.copy(current));
    }
    return result.add(JsonValues.copy(value));
  }

  private boolean remove(String key, Object value) {
    if (MetadataKey.isPath(key)) {
      MetadataPath path = MetadataPath.parse(key);
      if (!(path.first(metadata) instanceof JsonArray array)) {
        return false;
      }
      path.set(metadata, without(array, value));
      return true;
    }
    if (!(metadata.getValue(key) instanceof JsonArray array)) {
      return false;
    }
    metadata.put(key, without(array, value));
    return true;
  }

  private static JsonArray without(JsonArray array, Object value) {
    JsonArray kept = new JsonArray();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!JsonValues.deepEquals(item, value)) {
        kept.add(JsonValues.copy(item));
      }
    }
    return kept;
  }

  private boolean increment(String key, Number by) {
    if (MetadataKey.isPath(key)) {
      MetadataPath path = MetadataPath.parse(key);
      path.set(metadata, JsonValues.add(startingPoint(path.first(metadata)), by));
    } else {
      metadata.put(key, JsonValues.add(startingPoint(metadata.getValue(key)), by));
    }
    return true;
  }

  /** Anything that is not a number, a numeric string included, counts from zero. */
  private static Number startingPoint(Object current) {
    return JsonValues.isNumber(current) ? (Number) current : 0;
  }
}
