package io.freshet.publisher.metadata;

import io.freshet.core.write.metadata.JsonValues;
import io.freshet.core.write.metadata.MetadataKey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A {@code $.}-key read and written the way {@code @jsonhero/path} does it for the SDK.
 *
 * <p>Resolution walks segment by segment over every current match. A match that is not an object
 * or array drops out, a JSON null drops out, and a missing key survives as {@link #UNDEFINED} for
 * one more step, which is what lets {@code set} create a key under an existing parent but not
 * under a missing one. Numeric segments index arrays; {@code *} fans out to every child. There is
 * no bracket syntax: {@code a[1]} is a key.
 */
final class MetadataPath {

  /** JavaScript's {@code undefined}: the key is absent, as opposed to present with JSON null. */
  static final Object UNDEFINED = new Object() {
    @Override
    public String toString() {
      return "undefined";
    }
  };

  private static final Pattern CANONICAL_INDEX = Pattern.compile("0|[1-9][0-9]{0,9}");
  /** JavaScript arrays stop at 2^32 - 2; a larger "index" is an ordinary (JSON-invisible) property. */
  private static final long MAX_ARRAY_INDEX = 4294967294L;

  private record Segment(String key, boolean wildcard) {}

  /** One place the path reached: the concrete keys walked, the value there, wildcards crossed. */
  record Match(List<String> keys, Object value, int wildcards) {}

  private final List<Segment> segments;

  private MetadataPath(List<Segment> segments) {
    this.segments = segments;
  }

  /** Parses a key that {@link MetadataKey#problem} accepted as a path. */
  static MetadataPath parse(String key) {
    String[] parts = MetadataKey.UNESCAPED_DOT.split(key, -1);
    List<Segment> segments = new ArrayList<>(parts.length - 1);
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i];
      if (part.isEmpty()) {
        throw new IllegalArgumentException("empty segment in path " + key);
      }
      segments.add("*".equals(part) ? new Segment(part, true) : new Segment(unescape(part), false));
    }
    return new MetadataPath(segments);
  }

  /** The library unescapes {@code \.} before {@code \\}; the order is kept. */
  private static String unescape(String part) {
    return part.replace("\\.", ".").replace("\\\\", "\\");
  }

  /** Every place the path reaches, in the order JavaScript enumerates keys. */
  List<Match> all(JsonObject root) {
    List<Match> matches = List.of(new Match(List.of(), root, 0));
    for (Segment segment : segments) {
      List<Match> next = new ArrayList<>();
      for (Match match : matches) {
        step(match, segment, next);
      }
      if (next.isEmpty()) {
        return List.of();
      }
      matches = next;
    }
    return matches;
  }

  private static void step(Match match, Segment segment, List<Match> next) {
    Object container = match.value();
    if (!JsonValues.isContainer(container)) {
      return;
    }
    if (segment.wildcard()) {
      // The library keeps null children here; a later segment then stops at them.
      for (String key : childKeys(container)) {
        next.add(new Match(append(match.keys(), key), child(container, key), match.wildcards() + 1));
      }
      return;
    }
    Object value = child(container, segment.key());
    if (value != null) {
      next.add(new Match(append(match.keys(), segment.key()), value, match.wildcards()));
    }
  }

  /**
   * The value at the first match, or null when nothing matched (the library's {@code first}
   * cannot tell that apart from a JSON null either). An array reached through wildcards is
   * flattened one level per wildcard, as the library's query results are.
   */
  Object first(JsonObject root) {
    List<Match> matches = all(root);
    if (matches.isEmpty()) {
      return null;
    }
    Match first = matches.get(0);
    if (first.value() instanceof JsonArray array && first.wildcards() > 0) {
      return flatten(array, first.wildcards());
    }
    return first.value();
  }

  /**
   * Writes {@code value} at every match whose parent is an object or array; a match that only
   * exists because a parent is missing writes nothing. Each write gets its own copy.
   */
  void set(JsonObject root, Object value) {
    for (Match match : all(root)) {
      List<String> keys = match.keys();
      Object parent = resolve(root, keys.subList(0, keys.size() - 1));
      put(parent, keys.get(keys.size() - 1), JsonValues.copy(value));
    }
  }

  /** Follows concrete keys (no wildcards); null when the walk leaves objects and arrays. */
  private static Object resolve(JsonObject root, List<String> keys) {
    Object current = root;
    for (String key : keys) {
      if (!JsonValues.isContainer(current)) {
        return null;
      }
      current = child(current, key);
    }
    return current;
  }

  private static void put(Object parent, String key, Object value) {
    if (parent instanceof JsonObject object) {
      object.put(key, value);
    } else if (parent instanceof JsonArray array) {
      long index = arrayIndex(key);
      if (index < 0) {
        // A non-index property on a JavaScript array never reaches JSON.
        return;
      }
      if (index < array.size()) {
        array.set((int) index, value);
        return;
      }
      // Writing past the end leaves holes, which JSON.stringify writes as null.
      while (array.size() < index) {
        array.addNull();
      }
      array.add(value);
    }
  }

  static Object child(Object container, String key) {
    if (container instanceof JsonObject object) {
      return object.containsKey(key) ? object.getValue(key) : UNDEFINED;
    }
    JsonArray array = (JsonArray) container;
    long index = arrayIndex(key);
    return index >= 0 && index < array.size() ? array.getValue((int) index) : UNDEFINED;
  }

  private static long arrayIndex(String key) {
    if (!CANONICAL_INDEX.matcher(key).matches()) {
      return -1;
    }
    long index = Long.parseLong(key);
    return index <= MAX_ARRAY_INDEX ? index : -1;
  }

  /** JavaScript's own-key order: array-index keys ascending, then the rest in insertion order. */
  private static List<String> childKeys(Object container) {
    List<String> keys = new ArrayList<>();
    if (container instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        keys.add(Integer.toString(i));
      }
      return keys;
    }
    List<String> others = new ArrayList<>();
    for (String key : ((JsonObject) container).fieldNames()) {
      (arrayIndex(key) >= 0 ? keys : others).add(key);
    }
    keys.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
    keys.addAll(others);
    return keys;
  }

  private static List<String> append(List<String> keys, String key) {
    List<String> longer = new ArrayList<>(keys.size() + 1);
    longer.addAll(keys);
    longer.add(key);
    return longer;
  }

  private static JsonArray flatten(JsonArray array, int depth) {
    JsonArray flat = new JsonArray();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (item instanceof JsonArray nested && depth > 0) {
        flat.addAll(flatten(nested, depth - 1));
      } else {
        flat.add(item);
      }
    }
    return flat;
  }
}
