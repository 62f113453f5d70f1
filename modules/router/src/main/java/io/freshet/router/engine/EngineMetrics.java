package io.freshet.router.engine;

/**
 * What {@link GatedReads} counts. Each kind of read keeps the meter names operators already
 * graph (run hydrates, stream reads), so each has its own implementation of this.
 */
public interface EngineMetrics {

  /** Why a read ran: the gate's first read, a retry after a stale one, a watched key whose replica moved. */
  enum Reason { WAKE, RETRY, WATCH }

  /** How a stale key ended, or a watched one went on. */
  enum Outcome {
    /** A replica retry was fresh. */
    RECOVERED,
    /** Read from the primary (the fallback). */
    PRIMARY,
    /** Delivered as the replica had it, then watched (no fallback left). */
    GAVE_UP,
    /** A watched key read fresh once the replica moved. */
    STALL_RECOVERED,
    /** A watched key read again, still stale. */
    STILL_STALE
  }

  /** A read of {@code keys} keys started. */
  void read(ReadSource.Where where, Reason reason, int keys);

  /** How long a first read started after its commit. */
  void gateDelay(long ms);

  void outcome(Outcome outcome, int keys);

  /** Primary reads the fallback budget refused. */
  void fallbackRefused(int keys);

  /** A watched key dropped at the bound (the backstop still corrects it). */
  void watchedDropped();
}
