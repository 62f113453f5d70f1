package io.freshet.core.bus;

/**
 * The cluster's membership changed as this node sees it: a member joined or left, or this node
 * merged back after being cut off (node-local, published on {@link NodeAddresses#membershipChanged()}).
 */
public record MembershipChanged(String reason) {}
