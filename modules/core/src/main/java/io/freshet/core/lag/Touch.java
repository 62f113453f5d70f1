package io.freshet.core.lag;

/** Feeds are active on this node: the lag sampler keeps sampling (node-local, fire and forget). */
public record Touch() {}
