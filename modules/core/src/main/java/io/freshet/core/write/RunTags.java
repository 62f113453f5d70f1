package io.freshet.core.write;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Tags as the SDK sends them (one string or an array), normalised the way trigger.dev stores them. */
public final class RunTags {

  public static final int MAX_TAG_CHARS = 128;

  private RunTags() {}

  /** Trimmed, blanks dropped, duplicates dropped, first-seen order; null input gives an empty list. */
  public static List<String> normalize(Object raw, String field) {
    List<Object> items = new ArrayList<>();
    if (raw == null) {
      return List.of();
    } else if (raw instanceof String s) {
      items.add(s);
    } else if (raw instanceof JsonArray array) {
      items.addAll(array.getList());
    } else {
      throw FreshetException.badRequest(field + " must be a string or an array of strings");
    }
    Set<String> tags = new LinkedHashSet<>();
    for (Object item : items) {
      if (!(item instanceof String tag)) {
        throw FreshetException.badRequest(field + " must contain only strings");
      }
      String trimmed = tag.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      if (trimmed.length() > MAX_TAG_CHARS) {
        throw FreshetException.badRequest(field + ": each tag must be at most " + MAX_TAG_CHARS + " characters");
      }
      tags.add(trimmed);
    }
    return List.copyOf(tags);
  }

  public static FreshetException tooMany(int max, int total) {
    return FreshetException.unprocessable("Runs can only have " + max + " tags, you are trying to set " + total
        + ". Remove some tags and try again.");
  }
}
