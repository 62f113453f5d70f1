#!/usr/bin/env bash
# Entrypoint of the `replica` service: clone the primary once, then run a
# hot standby whose replay is deliberately delayed, like Freshet's lagging
# production read replica (and like scripts/db.sh does without Docker).
set -euo pipefail

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

# The container starts as root; the server must not.  Make the volume ours
# and re-exec as postgres (gosu ships with the official image).
if [[ "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec gosu postgres "${BASH_SOURCE[0]}" "$@"
fi

if [[ -z "$(ls -A "$PGDATA" 2>/dev/null)" ]]; then
  echo "replica: PGDATA is empty, cloning the primary with pg_basebackup"
  # PGPASSWORD comes from the compose environment.  It also stays in the
  # server's environment, which the walreceiver's libpq reads, so streaming
  # authenticates even if primary_conninfo carries no password.
  # depends_on waits for a healthy primary; retry anyway in case it restarts.
  until pg_basebackup -h primary -U freshet -D "$PGDATA" -R -X stream -c fast; do
    echo "replica: pg_basebackup failed, retrying in 2 s"
    # pg_basebackup refuses a non-empty target: clear a partial copy.
    find "$PGDATA" -mindepth 1 -delete
    sleep 2
  done
  chmod 700 "$PGDATA"
fi

# Command-line settings win over the postgresql.conf copied from the primary
# (and over ALTER SYSTEM): to try another delay, recreate the container with
#   REPLICA_APPLY_DELAY=400ms docker compose --profile replica up -d replica
# max_connections / max_wal_senders: a hot standby refuses to run with lower
# values than the primary's, and the primary sets them on ITS command line,
# so they are not in the postgresql.conf that pg_basebackup copied.
exec postgres \
  -c listen_addresses='*' \
  -c max_connections=300 \
  -c max_wal_senders=10 \
  -c max_replication_slots=10 \
  -c hot_standby=on \
  -c recovery_min_apply_delay="${REPLICA_APPLY_DELAY:-150ms}" \
  -c hot_standby_feedback=on \
  -c wal_receiver_status_interval=1s \
  -c max_standby_streaming_delay=30s
