-- Freshet schema, version 2: the replica-lag heartbeat.
-- One node of the cluster bumps this row on the primary every lag.sampleIntervalMs while feeds are
-- active; every node times when its replica shows the new value, which measures the replica's
-- apply delay mid-apply (something plain PostgreSQL cannot report from the replica side).
CREATE TABLE freshet_heartbeat (
  id   integer PRIMARY KEY,
  seq  bigint NOT NULL,
  at   timestamp(3) NOT NULL     -- the primary's clock at the write, UTC
);
