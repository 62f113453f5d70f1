package io.freshet.core.time;

import java.time.Instant;

/**
 * What time it is, for every decision the node makes about time: one interface for the whole node,
 * one Vert.x implementation ({@link VertxScheduler}), one fake in tests ({@code FakeScheduler} in
 * core's test-jar), so a test of timing logic moves time instead of waiting for it.
 *
 * <p>The time is the wall clock in epoch milliseconds: the commit watermarks the gate compares it
 * with are the primary's wall clock, so a monotonic clock would not do. A clock step (an NTP jump)
 * is within what {@code gate.marginMs} and the tripwire absorb.
 */
@FunctionalInterface
public interface Clock {

  /** Now, in epoch milliseconds. */
  long nowMs();

  default Instant instant() {
    return Instant.ofEpochMilli(nowMs());
  }

  /** The machine's clock. */
  Clock SYSTEM = System::currentTimeMillis;
}
