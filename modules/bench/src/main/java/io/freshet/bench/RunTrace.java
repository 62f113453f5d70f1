package io.freshet.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything the benchmark saw of one run: the writes it committed through the write API (the
 * counter {@code seq} and when the PUT was sent and returned) and, per subscriber, every row the
 * feed delivered (the row's {@code seq}, the server's {@code updatedAt} and the arrival time). All
 * times are epoch milliseconds on this machine's clock, which the database shares.
 */
public final class RunTrace {

  /** One committed write: {@code returnedAtMs} is the client-side commit time (the PUT returned). */
  public record Write(int seq, long sentAtMs, long returnedAtMs) {}

  /** One delivered row. {@code updatedAtMs} is the server's watermark of the delivered version. */
  public record Delivery(int seq, long arrivedAtMs, long updatedAtMs) {}

  public final String runId;
  private final List<Write> writes = new ArrayList<>();
  private final List<List<Delivery>> subscribers = new ArrayList<>();

  public RunTrace(String runId) {
    this.runId = runId;
  }

  public synchronized void wrote(int seq, long sentAtMs, long returnedAtMs) {
    writes.add(new Write(seq, sentAtMs, returnedAtMs));
  }

  /** A new subscriber on this run; returns its index for {@link #delivered}. */
  public synchronized int subscriber() {
    subscribers.add(new ArrayList<>());
    return subscribers.size() - 1;
  }

  public synchronized void delivered(int subscriber, int seq, long arrivedAtMs, long updatedAtMs) {
    subscribers.get(subscriber).add(new Delivery(seq, arrivedAtMs, updatedAtMs));
  }

  public synchronized List<Write> writes() {
    return List.copyOf(writes);
  }

  public synchronized List<List<Delivery>> subscribers() {
    List<List<Delivery>> copy = new ArrayList<>();
    subscribers.forEach(s -> copy.add(List.copyOf(s)));
    return copy;
  }
}
