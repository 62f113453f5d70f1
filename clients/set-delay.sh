#!/usr/bin/env bash
# clients/set-delay.sh MS -- sets the standby's recovery_min_apply_delay for the client tests.
# db.sh only manages the rig of this checkout; for a rig started from another checkout (listening
# on the same ports), the same SQL db.sh uses is run with psql.
set -euo pipefail
MS="$1"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPLICA_PORT="${FRESHET_PG_REPLICA_PORT:-15433}"
if "$REPO/scripts/db.sh" set-delay "$MS" >/dev/null 2>&1; then
  exit 0
fi
PSQL="$(command -v psql 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1)"
[[ -n "$PSQL" ]] || { echo "set-delay.sh: cannot set the standby's apply delay: no psql" >&2; exit 1; }
replica_sql() { PGPASSWORD=freshet "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$REPLICA_PORT user=freshet dbname=freshet" -c "$1"; }
replica_sql "ALTER SYSTEM SET recovery_min_apply_delay = '${MS}ms'" >/dev/null
replica_sql "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 50); do
  [[ "$(replica_sql "SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'")" == "$MS" ]] && exit 0
  sleep 0.1
done
echo "set-delay.sh: the standby did not take recovery_min_apply_delay = ${MS}ms" >&2
exit 1
