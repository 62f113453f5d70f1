#!/usr/bin/env bash
# The whole test suite, from a clean clone: starts the local primary and lagging standby (installing
# PostgreSQL when missing), runs every Maven module's tests against them (unit tests, the end-to-end
# feeds, the two-node cluster, bad input), then the real-client suite (trigger.dev SDK, Electric
# client, headless Chromium; installs npm packages and Chromium when missing) and the benchmark's
# quick smoke run (no figure is asserted). Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/db.sh start
bash scripts/db.sh set-delay 150

mvn -B -ntp verify

CLIENT_LOG=$(mktemp)
bash clients/run.sh 2>&1 | tee "$CLIENT_LOG"

bash scripts/bench.sh --quick

# Java: every surefire report; Node: the test runner's own totals.
java_total=$(cat modules/*/target/surefire-reports/TEST-*.xml | grep -c '<testcase ' || true)
java_failed=$(cat modules/*/target/surefire-reports/TEST-*.xml | grep -cE '<(failure|error)[ >]' || true)
node_pass=$(grep -E '^# pass [0-9]+' "$CLIENT_LOG" | awk '{s+=$3} END {print s+0}')
node_fail=$(grep -E '^# fail [0-9]+' "$CLIENT_LOG" | awk '{s+=$3} END {print s+0}')
echo "test.sh: $java_total Java tests, $node_pass client tests, benchmark smoke run done"
echo "$((java_total - java_failed + node_pass)) passed, $((java_failed + node_fail)) failed"
