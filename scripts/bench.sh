#!/usr/bin/env bash
# scripts/bench.sh -- the benchmark in one command: every gate mode over the same workload at
# every point of the sweep (standby apply delay x write interval), then the scale phase for
# gated; writes results/<timestamp>/{report.md,latency.svg,points.csv} and prints the report.
#
#   scripts/bench.sh [--quick|--full] [--shared-rig] [harness options...]
#
#   --quick       one point per mode (apply delay 150 ms, interval 100 ms), short scale phase;
#                 a few minutes (CI smoke: no figure is asserted)
#   --full        the whole sweep: apply delays 0,50,150,500 ms x intervals 20,100,1000 ms x
#                 4 modes, scale to 10,000 SSE subscribers (default)
#   --keep-rig    leave the bench's own pair running afterwards (faster reruns)
#   --shared-rig  use the running rig on FRESHET_PG_PRIMARY_PORT/FRESHET_PG_REPLICA_PORT
#                 (default 15432/15433) instead of the bench's own pair; the bench changes
#                 its apply delay, so do not use it while others test on it
#   harness options: --modes gated,ungated --delays 0,150 --intervals 100 --runs 10
#                 --sse 5000 --scale false --sweep false --out DIR
#
# By default the bench starts its own primary/standby pair on ports 17432/17433 under
# .data/bench-pg (override with BENCH_PG_PRIMARY_PORT / BENCH_PG_REPLICA_PORT / BENCH_PG_DIR),
# so it never disturbs a developer's rig, and stops that pair again when it exits (unless
# --keep-rig, or the pair was already running when the bench started: then it is left running).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
JAR="$REPO/modules/bench/target/freshet-bench.jar"
MODE=--full
SHARED=0
KEEP_RIG=0
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick|--full) MODE="$1" ;;
    --shared-rig) SHARED=1 ;;
    --keep-rig) KEEP_RIG=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

say() { printf 'bench.sh: %s\n' "$*" >&2; }

if [[ ! -f "$JAR" ]]; then
  say "building (mvn -q -B package -DskipTests)"
  (cd "$REPO" && mvn -q -B package -DskipTests)
fi

if [[ $SHARED -eq 1 ]]; then
  export FRESHET_PG_PRIMARY_PORT="${FRESHET_PG_PRIMARY_PORT:-15432}"
  export FRESHET_PG_REPLICA_PORT="${FRESHET_PG_REPLICA_PORT:-15433}"
  say "using the running rig on :$FRESHET_PG_PRIMARY_PORT/:$FRESHET_PG_REPLICA_PORT (its apply delay will be changed)"
else
  export FRESHET_PG_PRIMARY_PORT="${BENCH_PG_PRIMARY_PORT:-17432}"
  export FRESHET_PG_REPLICA_PORT="${BENCH_PG_REPLICA_PORT:-17433}"
  export FRESHET_PG_DIR="${BENCH_PG_DIR:-$REPO/.data/bench-pg}"
  mkdir -p "$FRESHET_PG_DIR"
  export FRESHET_PG_DIR="$(cd "$FRESHET_PG_DIR" && pwd -P)"
  if "$REPO/scripts/db.sh" status 2>/dev/null | grep -q '^primary: running'; then
    KEEP_RIG=1
    say "the bench's own rig is already running on :$FRESHET_PG_PRIMARY_PORT/:$FRESHET_PG_REPLICA_PORT; reusing it (it stays running)"
  else
    say "starting the bench's own rig on :$FRESHET_PG_PRIMARY_PORT/:$FRESHET_PG_REPLICA_PORT ($FRESHET_PG_DIR)"
  fi
  "$REPO/scripts/db.sh" start >/dev/null
  if [[ $KEEP_RIG -eq 0 ]]; then
    trap 'say "stopping the bench rig"; "$REPO/scripts/db.sh" stop >/dev/null 2>&1 || true' EXIT
  else
    say "to stop it: FRESHET_PG_PRIMARY_PORT=$FRESHET_PG_PRIMARY_PORT FRESHET_PG_REPLICA_PORT=$FRESHET_PG_REPLICA_PORT FRESHET_PG_DIR=$FRESHET_PG_DIR $REPO/scripts/db.sh stop"
  fi
fi

# Every SSE subscriber is a socket in the node's process (and one in the load client's).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "open files limit $(ulimit -n)"

START=$(date +%s)
java -Xmx3g -Dfreshet.repo="$REPO" \
  -Dlogback.configurationFile="$REPO/modules/bench/src/main/resources/bench-logback.xml" \
  -Djava.util.logging.config.file=/dev/null \
  ${BENCH_JAVA_OPTS:-} -jar "$JAR" "$MODE" ${ARGS[@]+"${ARGS[@]}"}
say "finished in $(( $(date +%s) - START )) s"
