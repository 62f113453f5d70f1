package io.freshet.core.write;

import io.freshet.core.FreshetException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SDK's duration strings ({@code "30s"}, {@code "1h30m"}, {@code "2w"}: units w, d, hr|h, m,
 * s) and the {@code delay} option, which is either such a duration or an ISO date-time.
 */
public final class Durations {

  private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:w|d|hr|h|m|s))+");
  private static final Pattern PART = Pattern.compile("(\\d+)(w|d|hr|h|m|s)");
  /** No run is delayed or kept alive longer than this; it also keeps the arithmetic from overflowing. */
  private static final Duration MAX = Duration.ofDays(3650);

  private Durations() {}

  /** Parses a duration string, or returns null when {@code text} is not one. */
  public static Duration parse(String text) {
    String s = text.trim();
    if (!WHOLE.matcher(s).matches()) {
      return null;
    }
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(s);
    while (m.find()) {
      long n;
      try {
        n = Long.parseLong(m.group(1));
      } catch (NumberFormatException tooBig) {
        return null;
      }
      Duration unit = switch (m.group(2)) {
        case "w" -> Duration.ofDays(7);
        case "d" -> Duration.ofDays(1);
        case "hr", "h" -> Duration.ofHours(1);
        case "m" -> Duration.ofMinutes(1);
        default -> Duration.ofSeconds(1);
      };
      if (n > MAX.dividedBy(unit)) {
        return null;
      }
      total = total.plus(unit.multipliedBy(n));
    }
    return total.compareTo(MAX) > 0 ? null : total;
  }

  /**
   * When a delayed run becomes due, as UTC, or null for no delay: a duration counts from
   * {@code now}; an ISO date-time is taken as is, and one not after {@code now} means no delay.
   */
  public static LocalDateTime delayUntil(String delay, Instant now) {
    Duration duration = parse(delay);
    Instant due;
    if (duration != null) {
      if (duration.isZero()) {
        return null;
      }
      due = now.plus(duration);
    } else {
      due = parseInstant(delay.trim());
      if (due == null) {
        throw FreshetException.badRequest(
            "options.delay must be a duration such as \"30s\" or \"1h30m\", or an ISO 8601 date-time");
      }
      if (!due.isAfter(now)) {
        return null;
      }
    }
    return LocalDateTime.ofInstant(due, ZoneOffset.UTC);
  }

  /** The {@code ttl} option as stored: a duration string, or whole seconds given as a number. */
  public static String ttl(Object ttl) {
    if (ttl == null) {
      return null;
    }
    if (ttl instanceof String s) {
      if (parse(s) == null) {
        throw FreshetException.badRequest("options.ttl must be a duration such as \"10m\" or \"1h30m\", or seconds");
      }
      return s.trim();
    }
    if (ttl instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() == Math.rint(n.doubleValue())
        && n.doubleValue() <= MAX.toSeconds()) {
      return n.longValue() + "s";
    }
    throw FreshetException.badRequest("options.ttl must be a duration string or a whole number of seconds >= 0");
  }

  private static Instant parseInstant(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException notOffset) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException notLocal) {
        return null;
      }
    }
  }
}
