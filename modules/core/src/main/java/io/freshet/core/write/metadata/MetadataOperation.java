package io.freshet.core.write.metadata;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One metadata change as the SDK sends it ({@code RunMetadataChangeOperation}). {@code key} is null
 * for {@code update}; {@code value} is null for {@code delete}. An operation of a type this server
 * does not know keeps its raw {@code type} and is reported back as unapplied, never rejected.
 */
public record MetadataOperation(Kind kind, String type, String key, Object value) {

  public enum Kind {
    UPDATE,
    SET,
    DELETE,
    APPEND,
    REMOVE,
    INCREMENT;

    static Kind of(String type) {
      return switch (type) {
        case "update" -> UPDATE;
        case "set" -> SET;
        case "delete" -> DELETE;
        case "append" -> APPEND;
        case "remove" -> REMOVE;
        case "increment" -> INCREMENT;
        default -> null;
      };
    }

    String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static MetadataOperation update(JsonObject value) {
    return new MetadataOperation(Kind.UPDATE, "update", null, value);
  }

  public static MetadataOperation set(String key, Object value) {
    return new MetadataOperation(Kind.SET, "set", key, value);
  }

  public static MetadataOperation delete(String key) {
    return new MetadataOperation(Kind.DELETE, "delete", key, null);
  }

  public static MetadataOperation append(String key, Object value) {
    return new MetadataOperation(Kind.APPEND, "append", key, value);
  }

  public static MetadataOperation remove(String key, Object value) {
    return new MetadataOperation(Kind.REMOVE, "remove", key, value);
  }

  public static MetadataOperation increment(String key, Number by) {
    return new MetadataOperation(Kind.INCREMENT, "increment", key, by);
  }

  /**
   * Parses one operations array of a request body; {@code field} (operations, parentOperations,
   * rootOperations) prefixes the index in error messages.
   *
   * @throws FreshetException 400 naming the first malformed element and its problem
   */
  public static List<MetadataOperation> parseAll(String field, JsonArray ops) {
    List<MetadataOperation> parsed = new ArrayList<>(ops.size());
    for (int i = 0; i < ops.size(); i++) {
      parsed.add(parse(ops.getValue(i), field + "[" + i + "]"));
    }
    return List.copyOf(parsed);
  }

  /**
   * Reads one element of an operations array. {@code where} names it in error messages, for
   * example {@code operations[3]}.
   *
   * @throws FreshetException 400 when the element is not a well-formed operation
   */
  public static MetadataOperation parse(Object json, String where) {
    if (!(json instanceof JsonObject op)) {
      throw invalid(where, "must be an object");
    }
    if (!(op.getValue("type") instanceof String type)) {
      throw invalid(where, "needs a string \"type\"");
    }
    Kind kind = Kind.of(type);
    if (kind == null) {
      // As trigger.dev's request schema does: the whole request is refused, so nothing of it is applied.
      throw invalid(where, "unknown type \"" + type + "\"; expected set, delete, append, remove, increment or update");
    }
    return switch (kind) {
      case UPDATE -> {
        if (!(op.getValue("value") instanceof JsonObject value)) {
          throw invalid(where, "update needs an object \"value\"");
        }
        yield update(value);
      }
      case DELETE -> delete(requireKey(op, type, where));
      case INCREMENT -> {
        String key = requireKey(op, type, where);
        if (!JsonValues.isNumber(op.getValue("value"))) {
          throw invalid(where, "increment needs a number \"value\"");
        }
        yield increment(key, (Number) op.getValue("value"));
      }
      default -> {
        String key = requireKey(op, type, where);
        if (!op.containsKey("value")) {
          // zod's Json schema accepts null but not a missing value.
          throw invalid(where, type + " needs a \"value\"");
        }
        yield new MetadataOperation(kind, type, key, op.getValue("value"));
      }
    };
  }

  private static String requireKey(JsonObject op, String type, String where) {
    if (!(op.getValue("key") instanceof String key)) {
      throw invalid(where, type + " needs a string \"key\"");
    }
    String problem = MetadataKey.problem(key);
    if (problem != null) {
      throw invalid(where, problem);
    }
    return key;
  }

  private static FreshetException invalid(String where, String problem) {
    return FreshetException.badRequest("Invalid metadata operation " + where + ": " + problem);
  }

  /** The operation in the SDK's wire shape. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("type", type);
    if (key != null) {
      json.put("key", key);
    }
    if (kind != Kind.DELETE) {
      json.put("value", JsonValues.copy(value));
    }
    return json;
  }
}
