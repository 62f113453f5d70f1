-- Freshet schema, version 5: packets, the payloads and outputs the SDK offloads (128 KiB and up).
-- The SDK asks for a presigned URL (PUT /api/v2/packets/{path}), uploads the bytes to it, and
-- triggers with payloadType application/store and the path as the payload. Stored on the primary,
-- where every node can serve them; a path is unique per environment and an upload to the same
-- path replaces it (the SDK retries uploads). Packets are kept as long as the runs that name them:
-- Freshet deletes neither.
CREATE TABLE packets (
  env_id       text NOT NULL REFERENCES environments (id),
  path         text NOT NULL,
  content_type text NOT NULL,
  bytes        bytea NOT NULL,
  created_at   timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  PRIMARY KEY (env_id, path)
);
