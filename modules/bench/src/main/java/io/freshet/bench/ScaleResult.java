package io.freshet.bench;

/**
 * The routing figure for {@code gated}.
 *
 * @param routedPerSecond change records the routers took off the event bus and processed per second
 *     (receive, index lookup, gate, batched hydrate, tripwire, diff), from publish start to drain
 * @param hydratesPerSecond batched hydrate queries the routers ran per second meanwhile
 */
public record ScaleResult(int heldFeeds, long recordsPublished, long recordsRouted, double routedPerSecond,
    double hydratesPerSecond, long routingMs) {}
