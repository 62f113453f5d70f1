package io.freshet.core.stats;

import io.freshet.core.bus.BusCodec;
import io.freshet.core.bus.Wire;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/**
 * How the dashboard gathers the cluster's figures: the serving node publishes a {@link Collect}
 * naming where to answer, and every node sends a {@link NodeReport} there. A report's figures are
 * the node's part of the dashboard's document, as it renders them; nothing reads them by key on the
 * way.
 */
public final class StatsProtocol {

  private StatsProtocol() {}

  /** Every node: send your figures to {@code replyTo}, with the lag history after {@code sinceMs}. */
  public record Collect(String replyTo, long sinceMs) {}

  /** One node's figures for the dashboard. */
  public record NodeReport(String node, JsonObject figures) {}

  /** Registers both codecs (clustered: every node answers). */
  public static void register(EventBus bus) {
    BusCodec.wire(Collect.class, (out, m) -> out.string(m.replyTo()).longValue(m.sinceMs()),
        in -> new Collect(in.string(), in.longValue())).register(bus);
    BusCodec.wire(NodeReport.class, (out, m) -> out.string(m.node()).string(m.figures().encode()),
        in -> new NodeReport(in.string(), new JsonObject(in.string()))).register(bus);
  }
}
