package io.freshet.router.feeds;

import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.push.PushProtocol;
import io.vertx.core.Future;
import java.util.List;

/**
 * A stopping node's hand-over of one router's open feed logs. Each log goes to a router of another
 * node, {@link #IN_FLIGHT} at a time; the new owner is written to the cluster's map of moved feeds
 * before the log is dropped here, so a client that polls again (its hold answered, its stream
 * ended) is sent on to the new owner with its handle and offset instead of refetching, and the
 * sinks whose SSE sessions follow the log are told where it went. A log nobody takes (no other
 * node, or every one stopping) goes with this node: its clients refetch.
 */
public final class Handovers {

  /** Logs handed over at once: a node with a few hundred logs hands them over in about a second. */
  static final int IN_FLIGHT = 16;
  /** Tries per log; a refusal (the adopter is stopping too) tries again, reaching another router. */
  static final int ATTEMPTS = 3;

  /** What a hand-over does in the cluster. */
  public interface Cluster {
    /**
     * Asks a router of another node to adopt the log; answers with its address. Fails with
     * {@link NobodyAdopts} when no other node has a router.
     */
    Future<String> adopt(FeedProtocol.Handover handover);

    /** Writes handle → new owner into the cluster's map of moved feeds. */
    Future<Void> recordMove(String handle, String router);

    /** Tells a sink that a log it follows moved. */
    void tell(String sink, PushProtocol.Moved moved);
  }

  /** No router of another node is there to adopt a log. */
  public static final class NobodyAdopts extends RuntimeException {
    public NobodyAdopts() {
      super("no router of another node adopts feed logs", null, false, false);
    }
  }

  private final FeedRouter feeds;
  private final Cluster cluster;

  public Handovers(FeedRouter feeds, Cluster cluster) {
    this.feeds = feeds;
    this.cluster = cluster;
  }

  /** How many of the logs that could move did. */
  public record Outcome(int moved, int of) {}

  /** Hands every open log over (never fails). */
  public Future<Outcome> handOverAll() {
    List<FeedProtocol.Handover> handovers = feeds.handovers();
    int[] moved = {0};
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < handovers.size(); from += IN_FLIGHT) {
      List<FeedProtocol.Handover> group = handovers.subList(from, Math.min(handovers.size(), from + IN_FLIGHT));
      chain = chain.compose(v -> Future.join(group.stream().map(h -> handOver(h, ATTEMPTS).map(done -> {
        if (done) {
          moved[0]++;
        }
        return (Void) null;
      })).toList()).<Void>mapEmpty().recover(e -> Future.succeededFuture()));
    }
    return chain.map(v -> new Outcome(moved[0], handovers.size()));
  }

  private Future<Boolean> handOver(FeedProtocol.Handover handover, int attempts) {
    return cluster.adopt(handover)
        .compose(router -> cluster.recordMove(handover.handle(), router).map(v -> {
          // SSE sessions on any node follow the log to its new owner; held polls are answered and poll again there.
          feeds.sinksOf(handover.handle()).forEach(sink -> cluster.tell(sink, new PushProtocol.Moved(handover.handle(), router)));
          feeds.handedOver(handover.handle());
          return true;
        }))
        .recover(e -> attempts > 1 && !(e instanceof NobodyAdopts) ? handOver(handover, attempts - 1) : Future.succeededFuture(false));
  }
}
