package io.freshet.core.bus;

import io.freshet.core.feed.FeedCodec;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.freshet.producer.Codecs;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

/**
 * Every codec a Freshet node's event bus needs: the change record (what producers publish) and the
 * feed protocol between the web edge and the routers, and the node-local messages of realtime
 * streams and of writes (the edge's commands to the publisher and its replies). Called once per
 * {@link Vertx} on every node.
 */
public final class NodeCodecs {

  private NodeCodecs() {}

  public static void register(Vertx vertx) {
    Codecs.register(vertx);
    FeedCodec.register(vertx);
    io.freshet.core.stream.StreamProtocol.register(vertx);
    // Every record of the two sealed types, so a new command or reply has its codec without a line here.
    for (Class<?> type : WriteCommand.class.getPermittedSubclasses()) {
      local(vertx.eventBus(), type);
    }
    for (Class<?> type : WriteReply.class.getPermittedSubclasses()) {
      local(vertx.eventBus(), type);
    }
  }

  private static <T> void local(EventBus bus, Class<T> type) {
    BusCodec.local(type).register(bus);
  }
}
