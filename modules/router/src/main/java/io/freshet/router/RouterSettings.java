package io.freshet.router;

import io.freshet.core.FreshetConfig;
import io.freshet.router.engine.GateMode;
import io.freshet.router.engine.GatedReads;
import io.freshet.router.engine.ReplicaLagGate;
import io.freshet.router.engine.SettlePolicy;

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
    int logRetention,
    int maxFeedsPerEnv,
    int maxFeedsPerToken,
    int rowImageMaxBytes,
    long resyncWindowMs,
    long resyncEveryMs) {

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
        config.getInt(FreshetConfig.ROUTER_LOG_RETENTION),
        config.getInt(FreshetConfig.REALTIME_MAX_FEEDS_PER_ENV),
        config.getInt(FreshetConfig.REALTIME_MAX_FEEDS_PER_TOKEN),
        config.getInt(FreshetConfig.ROUTER_ROW_IMAGE_MAX_BYTES),
        config.getInt(FreshetConfig.ROUTER_RESYNC_WINDOW_MS),
        Math.max(50, config.getInt(FreshetConfig.ROUTER_RESYNC_EVERY_MS)));
  }

  /** Reads of a stream, per round and node: one filling while one runs. */
  static final int STREAM_READS_IN_FLIGHT = 2;
  /** The shortest time between the starts of two stream read rounds. */
  static final long STREAM_ROUND_EVERY_MS = 5;

  public SettlePolicy policy() {
    return new SettlePolicy(new ReplicaLagGate(mode, marginMs, maxDelayMs), marginMs, maxDelayMs, minRetryDelayMs, freshWithinMs,
        mode == GateMode.GATED && primaryFallbackPerSec > 0, staleRetries);
  }

  /**
   * Whether a commit that carried its value (a run's row, a stream's chunks) of {@code sizeBytes}
   * is served from it at once. Only Freshet's own mode does: the baseline modes measure reads.
   */
  public boolean servesCarried(int sizeBytes) {
    return mode == GateMode.GATED && rowImageMaxBytes > 0 && sizeBytes <= rowImageMaxBytes;
  }

  /** Whether run rows are checked against their watermark (only the baseline modes skip it). */
  public boolean checksRows() {
    return mode == GateMode.GATED;
  }

  /** One environment's run reads on one router. */
  public GatedReads.Limits runLimits() {
    return new GatedReads.Limits(hydrateConcurrency, hydrateBatchMax, coalesceMs, 0, maxWatchedRunsPerEnv);
  }

  /**
   * A node's stream reads: rounds at most every {@link #STREAM_ROUND_EVERY_MS}, so a thousand
   * streams with a commit every few ms cost a bounded number of queries.
   */
  public GatedReads.Limits streamLimits() {
    return new GatedReads.Limits(STREAM_READS_IN_FLIGHT, hydrateBatchMax, coalesceMs, STREAM_ROUND_EVERY_MS, maxWatchedRunsPerEnv);
  }
}
