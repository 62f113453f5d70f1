#!/usr/bin/env bash
# clients/run.sh -- runs the real-client suite (clients/test/*.test.js) against Freshet nodes
# started here, on the local primary + lagging standby rig.
#
#   bash clients/run.sh [extra node --test arguments or test files]
#
# Expects the built jar (mvn -q -B package -DskipTests at the repo root); builds nothing.
# Installs what the tests need when it is missing: the npm packages (npm ci) and, as root,
# Debian's chromium. Starts two nodes on free ports, each logging to clients/.run/:
#   - the main node (every scenario but the limits one);
#   - a "limited" node with realtime.maxConnectionsPerEnv=2 and a 1 s SSE keep-alive.
# Stops both on exit and exits with the tests' status.
set -euo pipefail

CLIENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$CLIENTS/.." && pwd -P)"
JAR="${FRESHET_JAR:-$REPO/modules/server/target/freshet-server.jar}"
CONFIG="${FRESHET_CONFIG_FILE:-$REPO/conf/freshet.json}"
RUN_DIR="$CLIENTS/.run"
APPLY_DELAY_MS=200
PRIMARY_PORT="${FRESHET_PG_PRIMARY_PORT:-15432}"
REPLICA_PORT="${FRESHET_PG_REPLICA_PORT:-15433}"
OTHER_ENV_SLUG=clients-other

say() { printf "clients/run.sh: [%s] %s\n" "$(date +%T)" "$*" >&2; }
die() { printf 'clients/run.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -f "$JAR" ]] || die "no $JAR; build it first: (cd $REPO && mvn -q -B package -DskipTests)"
command -v node >/dev/null || die "node is not installed (Node.js 20 or later is needed)"
command -v java >/dev/null || die "java is not installed"
mkdir -p "$RUN_DIR"

# ------------------------------------------------------------------ database rig --
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open "$PRIMARY_PORT" && port_open "$REPLICA_PORT"; then
  # Possibly the rig of another checkout of this repo (its data lives in that checkout); it is
  # shared, so we use it as it is and never stop it.
  say "PostgreSQL rig already listening on $PRIMARY_PORT/$REPLICA_PORT; using it"
else
  "$REPO/scripts/db.sh" start
fi

# The standby's apply delay the scenarios are specified under (the dashboard test changes it and
# sets it back with the same script).
"$CLIENTS/set-delay.sh" "$APPLY_DELAY_MS" || die "cannot set the standby's apply delay"
export FRESHET_APPLY_DELAY_MS="$APPLY_DELAY_MS"
say "standby apply delay: ${APPLY_DELAY_MS} ms"

# ------------------------------------------------------------ test dependencies --
# npm ci when node_modules is missing or was installed from another package-lock.json.
if ! cmp -s "$CLIENTS/package-lock.json" "$CLIENTS/node_modules/.freshet-installed-lock" 2>/dev/null; then
  say "installing the npm packages (npm ci)"
  (cd "$CLIENTS" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$CLIENTS/package-lock.json" "$CLIENTS/node_modules/.freshet-installed-lock"
fi

CHROMIUM="${FRESHET_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  [[ $(id -u) -eq 0 ]] || die "$CHROMIUM is missing; install Debian's chromium (sudo apt-get install chromium) or set FRESHET_CHROMIUM"
  say "installing Debian's chromium"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  [[ -x "$CHROMIUM" ]] || die "apt-get installed chromium but $CHROMIUM is still missing"
fi
export FRESHET_CHROMIUM="$CHROMIUM"

# ----------------------------------------------------------------------- nodes --
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_node NAME PORT [ENV=VALUE...]: starts a node in the background, waits for /health.
start_node() {
  local name="$1" port="$2"; shift 2
  local log="$RUN_DIR/$name.log"
  env "$@" FRESHET_HTTP_HOST=127.0.0.1 FRESHET_HTTP_PORT="$port" \
    java -jar "$JAR" run --config "$CONFIG" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2
      die "node $name exited during startup; see $log"
    fi
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      say "node $name up on http://127.0.0.1:$port (log: $log)"
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "$log" >&2
  die "node $name did not answer /health within 60 s; see $log"
}

MAIN_PORT="$(free_port)"
start_node main "$MAIN_PORT"
LIMITED_PORT="$(free_port)"
start_node limited "$LIMITED_PORT" FRESHET_REALTIME_MAX_CONNECTIONS_PER_ENV=2 FRESHET_REALTIME_SSE_KEEP_ALIVE_MS=1000

# The node prints the development environment's secret key when it starts.
SECRET_KEY="$(grep -o 'secret key tr_[A-Za-z0-9_]*' "$RUN_DIR/main.log" | head -n1 | cut -d' ' -f3)"
[[ -n "$SECRET_KEY" ]] || die "the main node printed no secret key; see $RUN_DIR/main.log"

# A second environment, for the cross-environment token checks (created once, then reused).
env_key() { java -jar "$JAR" env list --config "$CONFIG" 2>/dev/null | awk -v slug="$1" '$1 == slug { print $4 }'; }
OTHER_KEY="$(env_key "$OTHER_ENV_SLUG")"
if [[ -z "$OTHER_KEY" ]]; then
  java -jar "$JAR" env create "$OTHER_ENV_SLUG" --config "$CONFIG" >/dev/null 2>&1 || true
  OTHER_KEY="$(env_key "$OTHER_ENV_SLUG")"
fi
[[ -n "$OTHER_KEY" ]] || die "could not create the '$OTHER_ENV_SLUG' environment"

export FRESHET_BASE_URL="http://127.0.0.1:$MAIN_PORT"
export FRESHET_LIMITED_BASE_URL="http://127.0.0.1:$LIMITED_PORT"
export FRESHET_SECRET_KEY="$SECRET_KEY"
export FRESHET_OTHER_KEY="$OTHER_KEY"

# ----------------------------------------------------------------------- tests --
# One file at a time: the scenarios share the nodes and the standby's delay. --test-force-exit
# because the clients leave timers behind after every stream is stopped (1.5.28 keeps a 60 s
# throttle timer for its up-to-date cache; 1.0.14 lets a held long-poll run out after stop), which
# would otherwise keep each test file's process alive for up to a minute.
say "running the client tests"
status=0
(
  cd "$CLIENTS"
  if [[ $# -gt 0 ]]; then
    node --test --test-concurrency=1 --test-timeout=120000 --test-force-exit "$@"
  else
    node --test --test-concurrency=1 --test-timeout=120000 --test-force-exit test/*.test.js
  fi
) || status=$?
if [[ $status -ne 0 ]]; then
  say "tests failed (exit $status); node logs: $RUN_DIR/main.log, $RUN_DIR/limited.log"
else
  say "client tests passed"
fi
exit "$status"
