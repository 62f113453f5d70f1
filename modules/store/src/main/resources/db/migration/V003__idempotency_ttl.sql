-- Freshet schema, version 3: idempotency keys expire (trigger.dev's options.idempotencyKeyTTL,
-- 30 days by default). A trigger that names an expired key releases it from the old run and
-- creates a new one; rows written before this migration keep keys that never expire.
ALTER TABLE task_runs ADD COLUMN idempotency_key_expires_at timestamp(3);
