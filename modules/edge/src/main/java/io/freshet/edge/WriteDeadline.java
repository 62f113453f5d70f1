package io.freshet.edge;

import io.freshet.core.FreshetException;

/**
 * A write the load balancer has given up on is never applied.
 *
 * <p>A node that is frozen (SIGSTOP, a stalled VM, a stop-the-world pause) still accepts
 * connections: the kernel queues the requests, and the node runs them when it resumes, seconds or
 * minutes late, after newer writes that went to other nodes. The balancer cannot tell a frozen node
 * from a slow one; it can only stop waiting (its write timeout) and answer 503. That answer must be
 * true: so the balancer stamps each request with the time it received it ({@code X-Request-Start:
 * t=<seconds>.<millis>}, nginx's {@code $msec}, the convention of Heroku and New Relic), and the
 * node refuses a write whose stamp is older than {@code http.writeDeadlineMs} when it gets to it,
 * with 503 and {@code retry-after}, before anything is written. With the deadline no longer than
 * the balancer's write timeout, every write the balancer answered 503 for is refused here too.
 * What is left: a write the node started in time but that took longer than the balancer waited
 * (a primary slower than the timeout); its outcome is unknown to the client, as any timeout's is.
 *
 * <p>Without the header (no balancer, or one that does not stamp) nothing is checked; a stamp
 * that cannot be read is ignored (it comes from the balancer, not from the client's mistake). A
 * client that sends a stamp of its own can only get its own write refused; a balancer in front
 * overwrites it.
 */
final class WriteDeadline {

  static final String HEADER = "x-request-start";

  private final long deadlineMs;

  /** {@code deadlineMs} 0 or less: no check. */
  WriteDeadline(long deadlineMs) {
    this.deadlineMs = deadlineMs;
  }

  /**
   * When a write stamped {@code stamp} must have been sent to the database by, in epoch ms; 0 when
   * nothing is checked. The publisher checks it again right before its update statement, so that a
   * node frozen between this edge and the statement does not send it when it resumes.
   */
  long deadlineAt(String stamp) {
    if (deadlineMs <= 0 || stamp == null) {
      return 0;
    }
    long receivedMs = receivedAtMs(stamp);
    return receivedMs > 0 ? receivedMs + deadlineMs : 0;
  }

  /** Throws a 503 when the request was received by the balancer longer than the deadline ago. */
  void check(String stamp, long nowMs) {
    long at = deadlineAt(stamp);
    if (at > 0 && nowMs > at) {
      throw new FreshetException(503, "this write reached the node " + (nowMs - at + deadlineMs) + " ms after the load balancer received it"
          + " (past http.writeDeadlineMs, " + deadlineMs + " ms): nothing was written; retry");
    }
  }

  /**
   * Epoch milliseconds from {@code t=1733480000.123} (seconds, as nginx's {@code $msec}), or from
   * a whole number of milliseconds or microseconds; -1 when it is none of these.
   */
  static long receivedAtMs(String stamp) {
    String s = stamp.trim();
    if (s.startsWith("t=")) {
      s = s.substring(2);
    }
    if (s.isEmpty() || s.length() > 20 || !s.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')) {
      return -1;
    }
    try {
      if (s.indexOf('.') >= 0) {
        return Math.round(Double.parseDouble(s) * 1000);
      }
      long n = Long.parseLong(s);
      return n >= 10_000_000_000_000L ? n / 1000 : n >= 10_000_000_000L ? n : n * 1000;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
