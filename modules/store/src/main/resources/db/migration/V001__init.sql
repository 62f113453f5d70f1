-- Freshet schema, version 1.
-- Timestamps are timestamp(3) holding UTC, as trigger.dev's TaskRun table does: realtime clients
-- receive them without a zone and append one themselves.

CREATE TABLE environments (
  id          text PRIMARY KEY,
  slug        text NOT NULL UNIQUE,
  type        text NOT NULL,
  api_key     text NOT NULL UNIQUE,
  created_at  timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE TABLE batches (
  id               text PRIMARY KEY,          -- friendly id, batch_...
  env_id           text NOT NULL REFERENCES environments (id),
  run_count        integer NOT NULL,
  task_identifiers text[] NOT NULL DEFAULT '{}',
  sealed           boolean NOT NULL DEFAULT false,
  idempotency_key  text,
  created_at       timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  updated_at       timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE UNIQUE INDEX batches_idempotency ON batches (env_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Per-task run numbers, bumped in the same statement that inserts the run.
CREATE TABLE task_counters (
  env_id           text NOT NULL,
  task_identifier  text NOT NULL,
  last_number      integer NOT NULL,
  PRIMARY KEY (env_id, task_identifier)
);

CREATE TABLE task_runs (
  id                   text PRIMARY KEY,      -- internal id, the Electric row key
  friendly_id          text NOT NULL UNIQUE,  -- run_..., what clients and change records use
  env_id               text NOT NULL REFERENCES environments (id),
  task_identifier      text NOT NULL,
  status               text NOT NULL,
  created_at           timestamp(3) NOT NULL,
  -- The row version. Every write sets it to max(now, previous + 1 ms), so it strictly increases
  -- per run even when two writers race; feeds diff on it and the tripwire compares it with the
  -- watermark a change record carries.
  updated_at           timestamp(3) NOT NULL,
  started_at           timestamp(3),
  delay_until          timestamp(3),
  queued_at            timestamp(3),
  expired_at           timestamp(3),
  completed_at         timestamp(3),
  idempotency_key      text,
  number               integer NOT NULL DEFAULT 0,
  is_test              boolean NOT NULL DEFAULT false,
  usage_duration_ms    integer NOT NULL DEFAULT 0,
  cost_in_cents        double precision NOT NULL DEFAULT 0,
  base_cost_in_cents   double precision NOT NULL DEFAULT 0,
  ttl                  text,
  payload              text,
  payload_type         text,
  metadata             text,
  metadata_type        text,
  output               text,
  output_type          text,
  run_tags             text[] NOT NULL DEFAULT '{}',
  error                jsonb,
  realtime_streams     text[] NOT NULL DEFAULT '{}',
  batch_id             text REFERENCES batches (id),
  batch_index          integer,
  parent_run_id        text,
  root_run_id          text,
  request_key          text                   -- x-trigger-request-idempotency-key of the trigger call
);

-- Lookups by id use the unique index on friendly_id.
-- Tag feeds: runs carrying all tags (GIN containment) created after the feed's floor.
CREATE INDEX task_runs_tags ON task_runs USING gin (run_tags);
CREATE INDEX task_runs_env_created ON task_runs (env_id, created_at DESC);
-- Batch feeds, and batch item de-duplication by index.
CREATE UNIQUE INDEX task_runs_batch ON task_runs (batch_id, batch_index) WHERE batch_id IS NOT NULL;
CREATE UNIQUE INDEX task_runs_idempotency ON task_runs (env_id, task_identifier, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX task_runs_request_key ON task_runs (env_id, request_key) WHERE request_key IS NOT NULL;
