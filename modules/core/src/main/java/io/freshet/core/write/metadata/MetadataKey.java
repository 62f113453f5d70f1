package io.freshet.core.write.metadata;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * The SDK's rules for an operation key. A key starting with {@code $.} is a JSONHero path; any
 * other key, dots included, names one top-level field.
 */
public final class MetadataKey {

  public static final String PATH_PREFIX = "$.";

  /** A path's separator: a dot not escaped with a backslash. */
  public static final Pattern UNESCAPED_DOT = Pattern.compile("(?<!\\\\)\\.");

  /** Segments that would reach an object's prototype in the SDK's JavaScript implementation. */
  private static final Set<String> PROTOTYPE_SEGMENTS = Set.of("__proto__", "constructor", "prototype");

  private MetadataKey() {}

  public static boolean isPath(String key) {
    return key.startsWith(PATH_PREFIX);
  }

  /** Why {@code key} is refused, or null when it is safe to apply. */
  public static String problem(String key) {
    if (!isPath(key)) {
      return "__proto__".equals(key) ? "key \"__proto__\" is not allowed" : null;
    }
    if (key.length() == PATH_PREFIX.length()) {
      return "path key \"$.\" must name at least one segment below $";
    }
    // Split on every dot, escaped or not: stricter than the path parser, so no escape trick can
    // smuggle a prototype segment past this check.
    for (String segment : key.substring(PATH_PREFIX.length()).split("\\.", -1)) {
      String bare = segment.replace("\\", "");
      if (PROTOTYPE_SEGMENTS.contains(segment) || PROTOTYPE_SEGMENTS.contains(bare)) {
        return "path key \"" + key + "\" has a forbidden segment \"" + bare + "\"";
      }
    }
    if (hasEmptySegment(key)) {
      // The SDK's path parser throws on an empty segment ("$.a..b", "$.a."), which trigger.dev's
      // server answers with a 500; refusing it up front gives the client something to act on.
      return "path key \"" + key + "\" has an empty segment";
    }
    return null;
  }

  private static boolean hasEmptySegment(String key) {
    String[] parts = UNESCAPED_DOT.split(key, -1);
    for (int i = 1; i < parts.length; i++) {
      if (parts[i].isEmpty()) {
        return true;
      }
    }
    return false;
  }
}
