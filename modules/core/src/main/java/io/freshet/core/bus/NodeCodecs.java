package io.freshet.core.bus;

import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.lag.Estimate;
import io.freshet.core.lag.Evidence;
import io.freshet.core.lag.Heartbeat;
import io.freshet.core.lag.HeartbeatDemand;
import io.freshet.core.lag.LagState;
import io.freshet.core.lag.Touch;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.stats.StatsProtocol;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamProtocol;
import io.freshet.core.write.WriteCommand;
import io.freshet.core.write.WriteReply;
import io.freshet.producer.Codecs;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import java.util.List;

/**
 * Every codec a Freshet node's event bus needs, registered in one place: the change record (what
 * producers publish), the feed requests, the push path shared by feeds and streams, stream
 * announcements and appends, the edge's write commands to the publisher and its replies, the
 * dashboard's stats gather, membership changes, and the lag sampler's messages (heartbeats and
 * their demand cross the cluster; the rest stay on their node). Called once per {@link Vertx} on
 * every node; calling it again is harmless.
 */
public final class NodeCodecs {

  private NodeCodecs() {}

  /** The lag sampler's messages ({@link io.freshet.core.lag}); a sealed type's codecs are its records'. */
  private static final List<BusCodec<?>> LAG = List.of(
      BusCodec.local(Evidence.Observed.class),
      BusCodec.local(Evidence.UpperBound.class),
      BusCodec.local(Evidence.Measured.class),
      BusCodec.local(Evidence.Ask.class),
      BusCodec.local(Estimate.class),
      BusCodec.local(Touch.class),
      BusCodec.local(LagState.class),
      Heartbeat.CODEC,
      HeartbeatDemand.CODEC);

  public static void register(Vertx vertx) {
    EventBus bus = vertx.eventBus();
    Codecs.register(vertx);
    FeedProtocol.register(bus);
    PushProtocol.register(bus);
    StreamAnnouncement.register(bus);
    StreamProtocol.register(vertx);
    LAG.forEach(codec -> codec.register(bus));
    StatsProtocol.register(bus);
    BusCodec.local(MembershipChanged.class).register(bus);
    // Every record of the two sealed types, so a new command or reply has its codec without a line here.
    for (Class<?> type : WriteCommand.class.getPermittedSubclasses()) {
      local(bus, type);
    }
    for (Class<?> type : WriteReply.class.getPermittedSubclasses()) {
      local(bus, type);
    }
  }

  private static <T> void local(EventBus bus, Class<T> type) {
    BusCodec.local(type).register(bus);
  }
}
