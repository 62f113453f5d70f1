package io.freshet.core.bus;

import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.producer.Codecs;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

/**
 * Every codec a Freshet node's event bus needs, registered in one place: the change record (what
 * producers publish), the feed requests, the push path shared by feeds and streams, stream
 * announcements and appends. Called once per {@link Vertx} on every node; calling it again is
 * harmless.
 */
public final class NodeCodecs {

  private NodeCodecs() {}

  public static void register(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    Codecs.register(vertx);
    FeedProtocol.register(bus);
    PushProtocol.register(bus);
    StreamAnnouncement.register(bus);
    StreamProtocol.register(vertx);
  }
}
