package io.freshet.core.feed;

import java.util.List;

/**
 * The bodies of Electric's shape protocol as {@code @electric-sql/client} (1.0.14 and 1.5.x) and
 * trigger.dev's SDK read them: change messages followed by an up-to-date control message whose
 * {@code global_last_seen_lsn} is the offset's sequence number, so an SSE client's last event maps
 * straight back to an offset ({@code <seq>_0}).
 */
public final class ElectricWire {

  public static final String MUST_REFETCH = "[{\"headers\":{\"control\":\"must-refetch\"}}]";

  private ElectricWire() {}

  public static String offset(long seq) {
    return seq + "_0";
  }

  public static String upToDate(long seq) {
    return "{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"" + seq + "\"}}";
  }

  /** A long-poll or snapshot body: the change messages, then up-to-date at {@code seq}. */
  public static String body(List<String> messages, long seq) {
    int size = 64;
    for (String m : messages) {
      size += m.length() + 1;
    }
    StringBuilder out = new StringBuilder(size).append('[');
    for (String m : messages) {
      out.append(m).append(',');
    }
    return out.append(upToDate(seq)).append(']').toString();
  }

  /** The same as server-sent events: one {@code data:} event per message, then up-to-date. */
  public static String sseEvents(List<String> messages, long seq) {
    int size = 96;
    for (String m : messages) {
      size += m.length() + 8;
    }
    StringBuilder out = new StringBuilder(size);
    for (String m : messages) {
      out.append("data: ").append(m).append("\n\n");
    }
    return out.append("data: ").append(upToDate(seq)).append("\n\n").toString();
  }
}
