#!/usr/bin/env bash
# scripts/faults.sh -- the fault suite: three Freshet nodes behind nginx, the real primary and
# lagging standby, real clients (@trigger.dev/sdk, @electric-sql/client over SSE) following runs
# through nginx while writes flow through it too, and one fault per scenario:
#   kill -9 of the node owning the feeds, SIGTERM of a node holding SSE streams, the standby
#   stopped, its replay paused, the primary stopped, change records dropped at one node, a rolling
#   restart and a Hazelcast member cut off and rejoining (full form only), the primary stopped and
#   the standby promoted (a failover; the pair is rebuilt with db.sh reset afterwards), 500 SSE
#   subscribers of which 50 never read.
# Each scenario prints "faults: PASS|FAIL <name> {figures}"; a Markdown table ends the output.
#
#   scripts/faults.sh            # every scenario at the issue's durations (~6 min)
#   scripts/faults.sh --short    # shorter faults, no member cut-off (~3 min; the test command runs this)
#   scripts/faults.sh --only=replay-paused,primary-stopped
#
# Builds the jar when missing, starts the primary/standby pair (db.sh) when it is not running and
# stops it again afterwards, installs nginx (Debian's) and the npm packages when missing.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
say() { printf 'faults.sh: %s\n' "$*" >&2; }

[[ -f "$REPO/modules/server/target/freshet-server.jar" ]] || (cd "$REPO" && mvn -q -B -ntp package -DskipTests) || exit 1
if ! cmp -s "$REPO/clients/package-lock.json" "$REPO/clients/node_modules/.freshet-installed-lock" 2>/dev/null; then
  say "installing the npm packages (npm ci)"
  (cd "$REPO/clients" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  cp "$REPO/clients/package-lock.json" "$REPO/clients/node_modules/.freshet-installed-lock"
fi

RIG_WAS_UP=0
if bash "$REPO/scripts/db.sh" status 2>/dev/null | grep -q '^primary: running'; then
  RIG_WAS_UP=1
fi
bash "$REPO/scripts/db.sh" start >/dev/null || exit 1
bash "$REPO/scripts/db.sh" set-delay 150 >/dev/null || exit 1
cleanup() {
  if [[ -f "$REPO/clients/.run/faults/promoted" ]]; then
    say "the failover scenario promoted the standby: rebuilding the primary/standby pair (db.sh reset)"
    bash "$REPO/scripts/db.sh" reset >/dev/null 2>&1 || say "db.sh reset failed; run it by hand"
    bash "$REPO/scripts/db.sh" set-delay 150 >/dev/null 2>&1 || true
  fi
  bash "$REPO/scripts/db.sh" replica resume >/dev/null 2>&1 || true
  bash "$REPO/scripts/db.sh" replica start >/dev/null 2>&1 || true
  bash "$REPO/scripts/db.sh" primary start >/dev/null 2>&1 || true
  if [[ $RIG_WAS_UP -eq 0 ]]; then
    say "stopping the primary/standby pair this run started"
    bash "$REPO/scripts/db.sh" stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

eval "$(bash "$REPO/scripts/db.sh" env)"
# Both hosts may be the primary: the failover scenario promotes the standby, and the nodes follow.
export FRESHET_DB_PRIMARY_URI FRESHET_DB_REPLICA_URI FRESHET_REPO="$REPO" FRESHET_DB_PRIMARY_URIS="$FRESHET_DB_PRIMARY_URI,$FRESHET_DB_REPLICA_URI"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cd "$REPO/clients" && node faults/faults.mjs "$@"
