/**
 * The messages between a node's lag sampler and the rest of the node, and between the samplers of
 * the cluster (addresses in {@link io.freshet.core.bus.NodeAddresses}, codecs registered by
 * {@link io.freshet.core.bus.NodeCodecs#register}).
 *
 * <p>Node-local: routers send {@link io.freshet.core.lag.Evidence} to {@code lagEvidence()} and get
 * an {@link io.freshet.core.lag.Estimate} back; the sampler publishes every new
 * {@link io.freshet.core.lag.Estimate} on {@code lagEstimate()}; a {@link io.freshet.core.lag.Touch}
 * on {@code lagTouch()} keeps it sampling; {@code lagState()} answers a {@link io.freshet.core.lag.LagState}.
 *
 * <p>Cluster-wide: the heartbeat writer publishes each {@link io.freshet.core.lag.Heartbeat} on
 * {@code lagHeartbeats()}, and nodes with active feeds publish
 * {@link io.freshet.core.lag.HeartbeatDemand} on {@code lagHeartbeatDemand()}.
 */
package io.freshet.core.lag;
