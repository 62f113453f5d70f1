package io.freshet.core.bus;

import io.freshet.core.feed.FeedCodec;
import io.freshet.producer.Codecs;
import io.vertx.core.Vertx;

/**
 * Every codec a Freshet node's event bus needs: the change record (what producers publish) and the
 * feed protocol between the web edge and the routers, and the
 * node-local messages of realtime streams. Called once per {@link Vertx} on every node.
 */
public final class NodeCodecs {

  private NodeCodecs() {}

  public static void register(Vertx vertx) {
    Codecs.register(vertx);
    FeedCodec.register(vertx);
    io.freshet.core.stream.StreamProtocol.register(vertx);
  }
}
