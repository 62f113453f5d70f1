package io.freshet.bench;

/**
 * Scale figures for {@code gated}.
 *
 * @param routedPerSecond change records the routers took off the event bus and processed per second
 *     (receive, index lookup, gate, batched hydrate, tripwire, diff), from publish start to drain
 * @param hydratesPerSecond batched hydrate queries the routers ran per second meanwhile
 */
public record ScaleResult(int heldFeeds, long recordsPublished, long recordsRouted, double routedPerSecond,
    double hydratesPerSecond, long routingMs,
    int sseTarget, int sseHeld, int sseFailed, double changesPerSecond, long sseDeliveries,
    long p50, long p99, long applyDelayMs, double heapBytesPerSubscriber, long heapBeforeBytes, long heapAfterBytes) {}
