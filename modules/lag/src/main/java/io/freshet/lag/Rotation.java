package io.freshet.lag;

/**
 * Whether reads may go to one replica. It leaves the rotation when it is down (two probes in a row
 * failed) or behind (its estimate exceeds {@code leaveAboveMs}: replay paused, or far behind after a
 * restore); it comes back once a probe measures it (a heartbeat it applied, or a sample that
 * found it caught up: an answer alone may come from a standby still replaying its backlog) and the
 * estimate is below half of that, so a replica hovering at the limit does not flap. Plain state, no clock: the sampler tells it what each probe
 * and estimate said.
 */
final class Rotation {

  /** Failed probes in a row that take a replica out: one is a reset connection, two are an outage. */
  static final int FAILURES_TO_LEAVE = 2;

  private final long leaveAboveMs;
  private boolean in = true;
  private int failures;
  private String why;

  Rotation(long leaveAboveMs) {
    this.leaveAboveMs = leaveAboveMs;
  }

  boolean inRotation() {
    return in;
  }

  /** Why it is out ({@code down}, {@code behind}), or null while in. */
  String why() {
    return why;
  }

  /** A probe answered ({@code measured}: it measured the lag); true when that moved it. */
  boolean answered(long lagMs, boolean measured) {
    failures = 0;
    return decide(lagMs, measured);
  }

  /** A probe failed; true when that moved it. */
  boolean failed(long lagMs) {
    failures++;
    return decide(lagMs, false);
  }

  /** The estimate changed; true when that moved it. */
  boolean estimated(long lagMs) {
    return decide(lagMs, "behind".equals(why));
  }

  private boolean decide(long lagMs, boolean mayRejoin) {
    boolean down = failures >= FAILURES_TO_LEAVE;
    if (in) {
      if (down || lagMs > leaveAboveMs) {
        in = false;
        why = down ? "down" : "behind";
        return true;
      }
      return false;
    }
    if (mayRejoin && failures == 0 && lagMs <= leaveAboveMs / 2) {
      in = true;
      why = null;
      return true;
    }
    if (down && "behind".equals(why)) {
      why = "down"; // the reason changed, not the state
    }
    return false;
  }
}
