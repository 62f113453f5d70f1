#!/usr/bin/env bash
# The main job: a local PostgreSQL primary, a standby that applies every commit late, one Freshet
# node, and a visible demo of a run followed while its metadata changes faster than the standby
# applies it. Ctrl-C stops the node (the database pair keeps running: scripts/db.sh stop).
#
#   scripts/start.sh                 # apply delay 300 ms, demo on
#   FRESHET_APPLY_DELAY_MS=150 scripts/start.sh --no-demo
set -euo pipefail
cd "$(dirname "$0")/.."

APPLY_DELAY_MS=${FRESHET_APPLY_DELAY_MS:-300}
PORT=${FRESHET_HTTP_PORT:-3030}
JAR=modules/server/target/freshet-server.jar
DEMO=1
[ "${1:-}" = "--no-demo" ] && DEMO=0

need() { command -v "$1" >/dev/null 2>&1 || { echo "start.sh: $1 is required ($2)" >&2; exit 1; }; }
need java "a JDK 17 or newer"
need mvn "Apache Maven 3.8 or newer"
need curl "to wait for the node"

# Build when the jar is missing or older than any source file.
if [ ! -f "$JAR" ] || [ -n "$(find modules conf pom.xml -newer "$JAR" -name '*.java' -o -newer "$JAR" -name 'pom.xml' -o -newer "$JAR" -name '*.sql' 2>/dev/null | head -1)" ]; then
  echo "start.sh: building the node (mvn package)"
  mvn -q -B package -DskipTests
fi

bash scripts/db.sh start
bash scripts/db.sh set-delay "$APPLY_DELAY_MS"
# The node connects where db.sh put the pair (its ports can be changed with FRESHET_PG_*_PORT).
eval "$(bash scripts/db.sh env)"
export FRESHET_DB_PRIMARY_URI FRESHET_DB_REPLICA_URI

mkdir -p .data
LOG=.data/node.log
FRESHET_HTTP_PORT=$PORT java -jar "$JAR" run --config conf/freshet.json > "$LOG" 2>&1 &
NODE=$!
trap 'kill -TERM $NODE 2>/dev/null; wait $NODE 2>/dev/null; echo "start.sh: node stopped"' EXIT INT TERM

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 $NODE 2>/dev/null || { echo "start.sh: the node exited; see $LOG" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.5
done
sed -n '/is up on/,/metrics:/p' "$LOG"

if [ "$DEMO" = 1 ]; then
  echo "start.sh: demo: a run's metadata changes every 50 ms; the standby applies each commit ${APPLY_DELAY_MS} ms late"
  FRESHET_HTTP_PORT=$PORT java -jar "$JAR" demo --config conf/freshet.json --steps 40 --interval 50 || true
  echo
fi
echo "start.sh: node running on http://127.0.0.1:$PORT (log: $LOG). Ctrl-C to stop."
wait $NODE
