package io.freshet.router;

import io.freshet.core.FreshetConfig;

/** The router's knobs, read once from config. */
public record RouterSettings(
    GateMode mode,
    long marginMs,
    long maxDelayMs,
    int staleRetries,
    long minRetryDelayMs,
    long freshWithinMs,
    int primaryFallbackPerSec,
    int maxWatchedRunsPerEnv,
    long livePollTimeoutMs,
    double livePollJitter,
    long replayWindowMs,
    int replayMaxRuns,
    long lingerMs,
    long shapeIdleTtlMs,
    int maxRunsPerFeed,
    int hydrateConcurrency,
    int hydrateBatchMax,
    long coalesceMs,
    int logRetention) {

  public static RouterSettings from(FreshetConfig config) {
    return new RouterSettings(
        GateMode.parse(config.get(FreshetConfig.GATE_MODE)),
        config.getInt(FreshetConfig.GATE_MARGIN_MS),
        config.getInt(FreshetConfig.GATE_MAX_DELAY_MS),
        config.getInt(FreshetConfig.GATE_STALE_RETRIES),
        config.getInt(FreshetConfig.GATE_MIN_RETRY_DELAY_MS),
        config.getInt(FreshetConfig.GATE_FRESH_WITHIN_MS),
        config.getInt(FreshetConfig.GATE_PRIMARY_FALLBACK_PER_SEC),
        config.getInt(FreshetConfig.GATE_MAX_WATCHED_RUNS_PER_ENV),
        config.getInt(FreshetConfig.ROUTER_LIVE_POLL_TIMEOUT_MS),
        config.get(FreshetConfig.ROUTER_LIVE_POLL_JITTER),
        config.getInt(FreshetConfig.ROUTER_REPLAY_WINDOW_MS),
        config.getInt(FreshetConfig.ROUTER_REPLAY_MAX_RUNS),
        config.getInt(FreshetConfig.ROUTER_LINGER_MS),
        config.getInt(FreshetConfig.ROUTER_SHAPE_IDLE_TTL_MS),
        config.getInt(FreshetConfig.ROUTER_MAX_RUNS_PER_FEED),
        config.getInt(FreshetConfig.ROUTER_HYDRATE_CONCURRENCY),
        config.getInt(FreshetConfig.ROUTER_HYDRATE_BATCH_MAX),
        config.getInt(FreshetConfig.ROUTER_COALESCE_MS),
        config.getInt(FreshetConfig.ROUTER_LOG_RETENTION));
  }

  ReplicaLagGate gate() {
    return new ReplicaLagGate(mode, marginMs, maxDelayMs);
  }

  SettlePolicy policy() {
    return new SettlePolicy(gate(), marginMs, maxDelayMs, minRetryDelayMs, freshWithinMs,
        mode == GateMode.GATED && primaryFallbackPerSec > 0, staleRetries);
  }
}
