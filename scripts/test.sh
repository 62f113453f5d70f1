#!/usr/bin/env bash
# The whole test suite, from a clean clone: starts the local primary and lagging standby (installing
# PostgreSQL when missing), then runs every Maven module's tests against them (unit tests, the
# end-to-end feeds, the two-node cluster, bad input) and, when present, the client compatibility
# suite and the benchmark's quick smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/db.sh start
bash scripts/db.sh set-delay 150

mvn -B -ntp verify

if [ -x clients/run.sh ] || [ -f clients/run.sh ]; then
  bash clients/run.sh
fi
if [ -f scripts/bench.sh ]; then
  bash scripts/bench.sh --quick
fi
