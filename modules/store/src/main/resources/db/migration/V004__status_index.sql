-- Freshet schema, version 4: tag feeds filtered by status (statuses=EXECUTING,QUEUED) read the runs
-- of an environment in those statuses, newest first, inside the feed's createdAt window.
CREATE INDEX task_runs_env_status_created ON task_runs (env_id, status, created_at DESC);
