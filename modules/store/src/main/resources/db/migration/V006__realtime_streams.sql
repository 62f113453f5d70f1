-- Realtime streams: what a task appends while it runs (LLM tokens, logs, progress), read live by
-- subscribers. A stream is (run, key). Its row holds the counters every append bumps in the same
-- statement that inserts the chunks, so appends to one stream serialize on it and a chunk's seq
-- order is its commit order: a replica that has seq N has every chunk before it.
CREATE TABLE realtime_streams (
  env_id       text NOT NULL REFERENCES environments (id),
  run_id       text NOT NULL,                  -- the run's friendly id
  stream_key   text NOT NULL,
  next_seq     bigint NOT NULL DEFAULT 0,      -- seq of the next chunk; chunks are 0..next_seq-1
  bytes        bigint NOT NULL DEFAULT 0,
  created_at   timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  appended_at  timestamp(3),                   -- primary clock at the last append: the watermark readers gate on
  closed_at    timestamp(3),                   -- the writer ended its body, or the run ended
  PRIMARY KEY (run_id, stream_key)
);
-- Retention sweeps streams by when they last changed.
CREATE INDEX realtime_streams_retention ON realtime_streams ((COALESCE(closed_at, appended_at, created_at)));

CREATE TABLE stream_chunks (
  run_id       text NOT NULL,
  stream_key   text NOT NULL,
  seq          bigint NOT NULL,
  client_id    text,                           -- X-Client-Id of the SDK writer; null for single appends
  chunk_index  integer,                        -- the writer's own index, which it resumes from
  data         text NOT NULL,                  -- one NDJSON line as the writer sent it
  created_at   timestamp(3) NOT NULL,
  PRIMARY KEY (run_id, stream_key, seq)
);
-- A writer that resumes after a dropped connection never stores a chunk twice, and its HEAD probe
-- (the last chunk index stored for it) is one index lookup.
CREATE UNIQUE INDEX stream_chunks_writer ON stream_chunks (run_id, stream_key, client_id, chunk_index)
  WHERE client_id IS NOT NULL;
