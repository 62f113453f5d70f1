package io.freshet.router.engine;

import io.vertx.core.Future;
import java.util.Collection;
import java.util.Map;

/**
 * What {@link GatedReads} reads, and how to tell how far a read reached: the one thing a runs feed
 * and a realtime stream differ in. A key is a run or a stream; a position is how far its commits
 * have come (a run's version, its {@code updatedAt}; a stream's last seq); a value is what a read
 * returned (a run's row; a stream's new chunks).
 */
public interface ReadSource<K, V> {

  /** Where a read goes. */
  enum Where { REPLICA, PRIMARY }

  /**
   * What one read returned for one key: the value (null: nothing, e.g. no such row, no new chunk),
   * the position it proves the read reached ({@link #NOTHING} when it proves none), and whether
   * there is more to read at once (a page of a long stream).
   */
  record Reading<V>(V value, long reached, boolean more) {
    /** The position of a read that found nothing: below every commit. */
    public static final long NOTHING = Long.MIN_VALUE;

    public static <V> Reading<V> of(V value, long reached) {
      return new Reading<>(value, reached, false);
    }
  }

  /**
   * One read's answer: a reading per key asked (a key left out found nothing), and the commit time
   * of the last transaction the replica had replayed when it ran (null when unknown, or read from
   * the primary).
   */
  record Readings<K, V>(Map<K, Reading<V>> byKey, Long replayedAtMs) {}

  /**
   * Reads {@code keys} from {@code where}, in one query: from the primary, or from read replica
   * {@code replica} (numbered from 0 in {@code db.replica.uris} order; ignored for the primary).
   */
  Future<Readings<K, V>> read(Collection<K> keys, Where where, int replica);

  /**
   * Whether a value read before the replica reached the commit it was read for may be delivered at
   * once. True for increments (a stream's chunks: every prefix is final content), false for
   * versions (a run's row: the previous version is the very staleness the gate exists to keep off
   * the wire; it is held back and only delivered if the retries run out).
   */
  boolean deliversPrefix();
}
