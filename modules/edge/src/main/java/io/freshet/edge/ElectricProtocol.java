package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.MultiMap;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Electric's HTTP shape protocol at the edge, as {@code @electric-sql/client} 1.0.14 and 1.5.x
 * require it: its headers, the offsets a client may send, the cursor, live and SSE modes. The
 * bodies are {@link io.freshet.core.feed.ElectricWire}'s, built once per log entry on the router.
 */
final class ElectricProtocol {

  static final String HANDLE = "electric-handle";
  static final String OFFSET = "electric-offset";
  static final String SCHEMA = "electric-schema";
  static final String CURSOR = "electric-cursor";
  static final String UP_TO_DATE = "electric-up-to-date";
  /** Query parameter: the handle of the client's last 409, on its refetch. It must not get that handle back. */
  static final String EXPIRED_HANDLE_PARAM = "expired_handle";

  private static final Pattern OFFSET_FORM = Pattern.compile("(\\d{1,18})_(\\d{1,18})");
  private static final long CURSOR_EPOCH_S = Instant.parse("2024-10-09T00:00:00Z").getEpochSecond();

  private ElectricProtocol() {}

  /** Parsed {@code offset}: -1 (snapshot), now (skip history), or a sequence number this server issued. */
  record Offset(boolean initial, boolean now, long seq) {
    static Offset parse(String raw) {
      if (raw == null || raw.equals("-1")) {
        return new Offset(true, false, 0);
      }
      if (raw.equals("now")) {
        return new Offset(true, true, 0);
      }
      Matcher m = OFFSET_FORM.matcher(raw);
      if (!m.matches()) {
        throw FreshetException.badRequest("offset must be -1, now, or an offset this server issued (N_M), not '" + raw + "'");
      }
      return new Offset(false, false, Long.parseLong(m.group(1)));
    }
  }

  /** Electric's cursor: 20 s buckets since its epoch, bumped when it would repeat the client's. */
  static String cursor(String previous, long nowMs) {
    long seconds = nowMs / 1000 - CURSOR_EPOCH_S;
    long cursor = ((seconds + 19) / 20) * 20;
    if (Long.toString(cursor).equals(previous)) {
      cursor += 1 + ThreadLocalRandom.current().nextInt(3600);
    }
    return Long.toString(cursor);
  }

  /** Live if {@code live=true}; SSE if live and {@code live_sse} (or the experimental name) is set and not "false". */
  static boolean isLive(MultiMap params) {
    return "true".equals(params.get("live"));
  }

  static boolean isSse(MultiMap params) {
    String sse = params.get("live_sse");
    if (sse == null) {
      sse = params.get("experimental_live_sse");
    }
    return sse != null && !sse.equals("false");
  }
}
