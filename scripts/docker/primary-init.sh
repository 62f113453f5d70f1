#!/usr/bin/env bash
# Mounted into /docker-entrypoint-initdb.d/ of the `primary` service.
# The postgres image runs it once, as the postgres user, right after initdb
# (PGDATA is set) and before the real server starts -- so no reload needed.
#
# Why: the image's pg_hba only has `host all all all scram-sha-256`, and the
# keyword `all` in the DATABASE column does NOT match replication
# connections.  Without this line the replica's pg_basebackup and its
# walreceiver are rejected.  md5 is fine: when the stored password is SCRAM,
# an md5 line authenticates with SCRAM anyway.
set -euo pipefail
echo "host replication all all md5" >> "$PGDATA/pg_hba.conf"
