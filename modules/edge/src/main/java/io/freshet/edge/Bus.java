package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.freshet.core.bus.NodeAddresses;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/** Request-reply to the routers and the publisher, with their failure codes turned back into HTTP statuses. */
final class Bus {

  /** Why a request found nobody: the owning node left, or the feed's router is gone. */
  static final class Gone extends FreshetException {
    Gone(String message) {
      super(409, message);
    }
  }

  private Bus() {}

  /** How long a request to a feed's owner may take (not a held poll) before the owner counts as gone. */
  static final long OWNER_TIMEOUT_MS = 5_000;

  /**
   * A request to the router owning a feed log. An owner that does not answer in time (its node was
   * killed, and the cluster has not noticed yet: Hazelcast takes its heartbeat timeout) is treated
   * as gone: the client refetches and opens the feed on a live node, instead of waiting for the
   * membership change.
   */
  static <T> Future<T> askOwner(Vertx vertx, String address, Object request, long timeoutMs) {
    return Bus.<T>ask(vertx, address, request, timeoutMs).recover(e -> e instanceof FreshetException fe && fe.status() == 503
        && fe.getMessage() != null && fe.getMessage().startsWith("timed out")
        ? Future.failedFuture(new Gone("the node owning this feed does not answer; refetch")) : Future.failedFuture(e));
  }

  /** A write command to this node's publisher, answered with the command's own reply type. */
  static <R extends WriteReply> Future<R> write(Vertx vertx, WriteCommand<R> command, long timeoutMs) {
    return askLocal(vertx, NodeAddresses.publisherCommands(), command, timeoutMs);
  }

  /** A request to a consumer on any node of the cluster (a router that owns a feed log). */
  static <T> Future<T> ask(Vertx vertx, String address, Object request, long timeoutMs) {
    return request(vertx, address, request, new DeliveryOptions().setSendTimeout(timeoutMs));
  }

  /**
   * A request to a consumer on this node (the publisher, the stream router, this node's feed
   * routers). Sent local-only: a clustered send first asks the cluster manager which nodes have
   * consumers of the address, and while a member is frozen that lookup can wait on the partition
   * the frozen member owns, for up to Hazelcast's heartbeat timeout; every later send to the same
   * address from the same event loop queues behind it. Writes on healthy nodes waited past the
   * load balancer's 2 s write timeout that way while another member was frozen (member-cut-off,
   * nginx's log named the healthy node).
   */
  static <T> Future<T> askLocal(Vertx vertx, String address, Object request, long timeoutMs) {
    return request(vertx, address, request, new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true));
  }

  private static <T> Future<T> request(Vertx vertx, String address, Object request, DeliveryOptions options) {
    return vertx.eventBus().<T>request(address, request, options)
        .map(Message::body)
        .recover(e -> {
          if (e instanceof ReplyException re) {
            switch (re.failureType()) {
              case RECIPIENT_FAILURE:
                int code = re.failureCode();
                return Future.failedFuture(new FreshetException(code >= 400 && code < 600 ? code : 500, re.getMessage()));
              case NO_HANDLERS:
                return Future.failedFuture(new Gone("no node serves this feed any more; refetch"));
              case TIMEOUT:
                return Future.failedFuture(new FreshetException(503, "timed out waiting for " + address.replaceAll("\\..*", "")));
              default:
                break;
            }
          }
          return Future.failedFuture(e);
        });
  }
}
