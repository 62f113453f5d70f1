package io.freshet.core;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Values in the text form Electric's protocol carries: what Postgres would print, with timestamps
 * in UTC and no zone (trigger.dev's client appends the {@code Z} itself; a value ending in Z
 * becomes an invalid date there).
 */
public final class PgText {

  private PgText() {}

  private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");

  public static String timestamp(LocalDateTime utc) {
    return utc == null ? null : TIMESTAMP.format(utc);
  }

  public static String timestamp(Instant instant) {
    return instant == null ? null : TIMESTAMP.format(LocalDateTime.ofInstant(instant, ZoneOffset.UTC));
  }

  public static long epochMillis(LocalDateTime utc) {
    return utc.toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  public static String bool(boolean value) {
    return value ? "t" : "f";
  }

  public static String number(double value) {
    if (value == Math.rint(value) && !Double.isInfinite(value) && Math.abs(value) < 1e15) {
      return Long.toString((long) value);
    }
    return Double.toString(value);
  }

  /** A Postgres array literal such as {@code {a,"b c",NULL}}. */
  public static String array(List<String> items) {
    if (items == null) {
      return null;
    }
    StringBuilder out = new StringBuilder("{");
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      String item = items.get(i);
      if (item == null) {
        out.append("NULL");
      } else if (needsQuotes(item)) {
        out.append('"');
        for (int j = 0; j < item.length(); j++) {
          char c = item.charAt(j);
          if (c == '"' || c == '\\') {
            out.append('\\');
          }
          out.append(c);
        }
        out.append('"');
      } else {
        out.append(item);
      }
    }
    return out.append('}').toString();
  }

  private static boolean needsQuotes(String item) {
    if (item.isEmpty() || item.equalsIgnoreCase("NULL")) {
      return true;
    }
    for (int i = 0; i < item.length(); i++) {
      char c = item.charAt(i);
      if (c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || Character.isWhitespace(c)) {
        return true;
      }
    }
    return false;
  }
}
