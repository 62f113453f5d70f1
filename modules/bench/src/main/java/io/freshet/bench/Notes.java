package io.freshet.bench;

/** The closing section of every report: what the figures mean and what they do not. */
final class Notes {

  private Notes() {}

  static final String TEXT = """
      ## How to read the table

      - **Workload.** Per point: `runs` runs triggered through `POST /api/v1/tasks/{task}/trigger`, one subscriber each on
        `GET /realtime/v1/runs/{runId}` (alternately live long-poll and SSE), then each run's metadata replaced through
        `PUT /api/v1/runs/{runId}/metadata` with `{"seq": k, "writtenAt": ms}` every *interval* (writes of one run are serial; runs
        are staggered over the interval), then a quiet tail of apply delay + 1.5 s. A fresh node per mode and apply delay, its intervals run back to back (20 ms, 100 ms, 1 s); `--node-per point` starts one per point.
      - **Commit time** is client-side: the moment the PUT returned (the server's `updatedAt` of delivered rows is kept too, in
        the raw data). **Latency** of write k on a subscriber = first arrival of a row with `seq ≥ k` − commit time of k. Writes
        superseded before delivery count with the row that covered them. `−delay` columns subtract the apply delay: the overhead
        over the physical limit for replica reads (`primary-reads` is not bound by it and goes negative).
      - **stale**: delivered rows whose `seq` is lower than the newest write whose PUT returned more than apply delay + 20 ms
        before the row arrived: the standby had a newer version, so the old one was not forced by the lag.
      - **behind**: delivered rows whose `seq` is lower than the newest write whose PUT returned before the row arrived (the
        "one change behind" the user sees). Where the write interval is longer than the apply delay + gate margin, only one
        change is in flight, so this is exactly "older than the change that woke it". Where writes come faster than the
        standby applies them, *every* mode that reads the standby delivers rows behind writes still in flight (physics, not a
        defect); only `primary-reads` avoids it. Read it at the slow points.
      - The client cannot see which change woke a delivery. `ungated` reads the newest version the standby has, so its rows are
        rarely **stale** by the definition above: its defect shows as **behind** at the slow points (the delivery of change k is
        triggered by change k+1), as latency ≈ one write interval, and as **stranded** final changes (the last change wakes a
        read that is one behind, and nothing wakes the feed again until the 20 s backstop).
      - **stranded**: subscribers whose run's final write had not arrived apply delay + 1 s after its PUT returned.
        **missing**: writes whose content never arrived before the end of the tail (those are left out of the percentiles).
      - **replica q/change**, **primary q/change**: statements on each pool while the writes and tail ran (Vert.x pool
        metrics, `vertx_pool_usage` by `pool_name`), divided by delivered rows. Replica statements include the lag sampler's
        probes (every 250 ms while feeds are active). Primary statements exclude the workload's own writes (2 per update).
        **hydrates/change**: the router's reads (`freshet_hydrate_queries_total`): batched, so one read serves many runs.
      - **Targets** (goals, never asserted in tests): `gated` zero stale and zero stranded at every point, p50 overhead ≤ 15 ms,
        p99 overhead ≤ 50 ms; routing ≥ 20,000 records/s per node; ≥ 10,000 SSE subscribers per node with p99 ≤ apply delay
        + 100 ms at 1,000 changes/s.
      - **Noise.** The load generator, the node and both PostgreSQL servers share this machine's cores; latency tails include
        the load generator's own scheduling. Ratios against `gated` are measured in the same run, minutes apart.
      """;
}
