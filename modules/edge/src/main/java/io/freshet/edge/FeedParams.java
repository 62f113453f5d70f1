package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.freshet.core.RunStatuses;
import io.freshet.core.feed.FeedFilter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Validates what a realtime request names, at the edge: ids, tags, the createdAt window, skipColumns. */
final class FeedParams {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private static final Pattern DURATION = Pattern.compile("^(\\d+(w|d|hr|h|m|s))+$");
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(w|d|hr|h|m|s)");
  static final int MAX_TAGS = 10;
  /** A tag feed's window when the client names none: trigger.dev's 24 h. */
  static final long DEFAULT_WINDOW_MS = 86_400_000L;

  private FeedParams() {}

  static String id(String value, String what) {
    if (value == null || !ID.matcher(value).matches()) {
      throw FreshetException.badRequest(what + " must be 1-128 characters of [A-Za-z0-9_-]");
    }
    return value;
  }

  static FeedFilter runFilter(String runId) {
    return new FeedFilter.Run(id(runId, "runId"));
  }

  static FeedFilter batchFilter(String batchId) {
    return new FeedFilter.Batch(id(batchId, "batchId"));
  }

  /** The most a tag feed's floor is rounded down, so that clients opening a moment apart share one log. */
  static final long MAX_FLOOR_ROUNDING_MS = 60_000;

  /**
   * {@code tags=a,b} (all must match), {@code statuses=...} (any of them; see {@link #statuses}) and
   * {@code createdAt=24h}, fixed now for the feed's lifetime.
   * The floor is rounded down by a thousandth of the window (at most a minute: 24h windows opened
   * within the same minute share one log), so a feed may include up to 0.1% more.
   */
  static FeedFilter tagFilter(List<String> tagParams, List<String> statusParams, String createdAt, long maxWindowMs, long nowMs) {
    LinkedHashSet<String> tags = new LinkedHashSet<>();
    for (String param : tagParams) {
      for (String tag : param.split(",")) {
        if (tag.chars().anyMatch(c -> c < 0x20 && c != ' ')) {
          throw FreshetException.badRequest("tags: a tag may not contain control characters (NUL included)");
        }
        String trimmed = tag.trim();
        if (trimmed.isEmpty()) {
          continue;
        }
        if (trimmed.length() > 128) {
          throw FreshetException.badRequest("tags: each tag is at most 128 characters");
        }
        tags.add(trimmed);
      }
    }
    if (tags.size() > MAX_TAGS) {
      throw FreshetException.badRequest("tags: at most " + MAX_TAGS + " tags");
    }
    long window = Math.min(createdAt == null || createdAt.isBlank() ? DEFAULT_WINDOW_MS : durationMs(createdAt), maxWindowMs);
    long bucket = Math.max(1, Math.min(MAX_FLOOR_ROUNDING_MS, window / 1000));
    long floor = Math.floorDiv(nowMs - window, bucket) * bucket;
    return new FeedFilter.Tags(new ArrayList<>(tags), floor, statuses(statusParams));
  }

  /** The most names a {@code statuses} filter takes (more than every raw status there is). */
  static final int MAX_STATUSES = 32;

  /**
   * {@code statuses=EXECUTING,QUEUED}: API statuses (as the SDK reports them) or raw ones, turned
   * into the raw statuses rows hold, sorted so that the same filter written in another order or
   * with other names for the same statuses shares one log. Empty means every status.
   */
  static List<String> statuses(List<String> params) {
    java.util.TreeSet<String> raw = new java.util.TreeSet<>();
    int names = 0;
    for (String param : params) {
      for (String name : param.split(",")) {
        String trimmed = name.strip().toUpperCase(Locale.ROOT); // strip, not trim: a NUL is not blank here
        if (trimmed.isEmpty()) {
          continue;
        }
        if (++names > MAX_STATUSES) {
          throw FreshetException.badRequest("statuses: at most " + MAX_STATUSES + " names");
        }
        java.util.Set<String> matched = RunStatuses.rawStatusesFor(trimmed);
        if (matched.isEmpty()) {
          throw FreshetException.badRequest("statuses: unknown status '" + (trimmed.length() > 40 ? trimmed.substring(0, 40) + "…" : trimmed)
              + "'; allowed: " + String.join(", ", RunStatuses.API) + " (or a raw status: " + String.join(", ", RunStatuses.RAW) + ")");
        }
        raw.addAll(matched);
      }
    }
    return List.copyOf(raw);
  }

  static long durationMs(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (!DURATION.matcher(v).matches() || v.length() > 32) {
      throw FreshetException.badRequest("createdAt must be a duration such as 24h, 90m or 1d12h, not '" + value + "'");
    }
    long total = 0;
    Matcher m = DURATION_PART.matcher(v);
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      long unit = switch (m.group(2)) {
        case "w" -> 7 * 86_400_000L;
        case "d" -> 86_400_000L;
        case "hr", "h" -> 3_600_000L;
        case "m" -> 60_000L;
        default -> 1000L;
      };
      total += Math.min(n, 1_000_000L) * unit;
    }
    return total;
  }

  static List<String> skipColumns(List<String> params) {
    List<String> out = new ArrayList<>();
    for (String param : params) {
      for (String column : param.split(",")) {
        if (!column.isBlank()) {
          out.add(column.trim());
        }
      }
    }
    return out;
  }
}
