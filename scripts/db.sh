#!/usr/bin/env bash
# scripts/db.sh -- local PostgreSQL rig for Freshet: one primary plus one or
# more streaming hot standbys whose replay is deliberately delayed
# (recovery_min_apply_delay, one delay per standby), so the feed server can be
# exercised against *lagging* read replicas exactly like in production,
# without Docker.
#
# Everything lives under $FRESHET_PG_DIR (default <repo>/.data/pg, which is
# git-ignored); the servers listen on 127.0.0.1 only.  Run with no arguments
# for usage.
set -euo pipefail

# ---------------------------------------------------------------- settings --
PRIMARY_PORT="${FRESHET_PG_PRIMARY_PORT:-15432}"
REPLICA_PORT="${FRESHET_PG_REPLICA_PORT:-15433}"
APPLY_DELAY_MS="${FRESHET_APPLY_DELAY_MS:-150}"
APPLY_DELAYS_MS="${FRESHET_APPLY_DELAYS_MS:-}"
DB_USER=freshet
DB_PASSWORD=freshet
DB_NAME=freshet
SLOT_NAME=freshet_replica
# How long `start` waits for both servers and for the standby to stream.
START_TIMEOUT_S=60

# The repo is the folder above scripts/, found from this file's own path so
# the script works from any cwd (and from any worktree / checkout).
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd -P)"

# Keep the caller's libpq environment from redirecting our own connections
# (a PGSERVICE or PGOPTIONS in someone's shell must not change what the rig
# talks to).  We always pass host/port/user/dbname explicitly.
unset PGSERVICE PGSERVICEFILE PGOPTIONS PGTARGETSESSIONATTRS PGSSLMODE || true
export PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5

# ------------------------------------------------------------------ output --
# All diagnostics go to stderr so that stdout stays machine-usable
# (`eval "$(scripts/db.sh env)"`).
say() { printf 'db.sh: %s\n' "$*" >&2; }
die() { printf 'db.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: scripts/db.sh <command> [args]

  start [--replicas N]
                  init (if needed) and start the primary + N delayed standbys (default:
                  as many as last time, at first 1); idempotent
  stop            stop every server (fast shutdown); idempotent
  reset           stop, delete all rig data, start from scratch
  status          running state, ports, standby apply delay, replication state
  set-delay MS [N]
                  change recovery_min_apply_delay on running standby N (default 1)
                  (kept across stop/start; reset goes back to the initial delays)
  replica [N] pause|resume|stop|start|set-delay MS
                  stall standby N (default 1): pause or resume its replay (it keeps
                  receiving WAL and answering queries), stop and start its server alone,
                  or change its apply delay
  promote [N]     promote standby N (default 1) to a primary with pg_promote(), as a
                  failover does (stop the primary first); the rig is then diverged:
                  'reset' rebuilds it
  primary stop|start
                  stop or start the primary server alone (the standby keeps running and
                  reconnects when the primary is back)
  measure         measure the real primary->standby visibility delay (5 runs + median)
  env             print export lines for FRESHET_DB_PRIMARY_URI / FRESHET_DB_REPLICA_URI
                  (standby 1); with several standbys also FRESHET_RIG_REPLICA_URIS
  psql primary|replica|replica-N [psql args...]
                  open psql on database '$DB_NAME' of that server

settings (environment):
  FRESHET_PG_PRIMARY_PORT  primary port           (default 15432)
  FRESHET_PG_REPLICA_PORT  standby 1's port       (default 15433; standby N listens on it + N - 1)
  FRESHET_APPLY_DELAY_MS   initial standby delay  (default 150; used when a standby is created)
  FRESHET_APPLY_DELAYS_MS  initial delay of each standby, comma-separated (e.g. 50,150,1000;
                           a standby without an entry gets FRESHET_APPLY_DELAY_MS)
  FRESHET_PG_DIR           data folder            (default <repo>/.data/pg)
EOF
}

uri() { printf 'postgresql://%s:%s@127.0.0.1:%s/%s' "$DB_USER" "$DB_PASSWORD" "$1" "$DB_NAME"; }

# ------------------------------------------------------------ server user --
# PostgreSQL refuses to run as root (initdb/pg_ctl/postgres all abort), so as
# root we run the server-side tools as the OS user `postgres`; as anyone else
# the servers simply run as the invoking user.
if [[ $(id -u) -eq 0 ]]; then
  SERVER_USER=postgres
  id -u "$SERVER_USER" >/dev/null 2>&1 ||
    die "running as root but OS user '$SERVER_USER' does not exist (install postgresql, or run as an ordinary user)"
else
  SERVER_USER="$(id -un)"
fi

# as_server CMD...: run CMD as the server user.  The `cd /` matters: when
# root's cwd is e.g. /root (mode 700) the postgres tools would otherwise warn
# or fail with "could not change directory".
as_server() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u "$SERVER_USER" -- "$@")
  else
    "$@"
  fi
}

# ---------------------------------------------------------------- binaries --
BIN=""
# find_bindir: newest /usr/lib/postgresql/<ver>/bin, else pg_config --bindir.
# If the primary already exists we prefer the binaries of *its* major version,
# because a data dir can only be run by the major version that created it.
find_bindir() {
  local want="" d best=""
  if [[ -n "${PG_DIR:-}" && -f "$PG_DIR/primary/PG_VERSION" ]]; then
    want="$(cat "$PG_DIR/primary/PG_VERSION")"
    if [[ -x "/usr/lib/postgresql/$want/bin/pg_ctl" ]]; then
      BIN="/usr/lib/postgresql/$want/bin"; return 0
    fi
  fi
  # sort -V so that 9.6 < 10 < 15 < 16 (plain sort would get this wrong).
  best="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do
            [[ -x "$d/pg_ctl" ]] && echo "$d"; done | tail -n1 || true)"
  if [[ -z "$best" ]] && command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    [[ -n "$d" && -x "$d/pg_ctl" ]] && best="$d"
  fi
  [[ -n "$best" ]] || return 1
  BIN="$best"
}

# need_bindir [install]: resolve BIN or fail; only `start` may install.
need_bindir() {
  find_bindir && return 0
  if [[ "${1:-}" == install ]]; then
    if [[ $(id -u) -eq 0 ]]; then
      say "PostgreSQL server binaries not found; installing the 'postgresql' package with apt-get"
      # Note: Debian's package also creates and starts its own 'main' cluster
      # on port 5432; the rig does not use or touch it.
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
      id -u postgres >/dev/null 2>&1 || die "apt-get installed postgresql but there is no 'postgres' OS user"
      find_bindir && return 0
      die "installed postgresql but still found no pg_ctl under /usr/lib/postgresql/*/bin"
    fi
    die "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/pg_ctl, no pg_config). Install them, e.g. 'sudo apt-get install postgresql', or run this script as root once."
  fi
  die "PostgreSQL server binaries not found; run 'scripts/db.sh start' (as root it installs them)"
}

# ---------------------------------------------------------------- data dir --
PG_DIR=""
# resolve_pg_dir: pick the data folder and make sure the server user owns it.
resolve_pg_dir() {
  local dir explicit=0 existed=1 dot_existed=1
  if [[ -n "${FRESHET_PG_DIR:-}" ]]; then dir="$FRESHET_PG_DIR"; explicit=1; else dir="$REPO/.data/pg"; fi
  [[ -e "$dir" ]] || existed=0
  [[ -e "$REPO/.data" ]] || dot_existed=0
  if [[ $(id -u) -eq 0 ]]; then
    # As root we can always create the folder, but the *postgres* user must
    # be able to reach and write it: a repo under /root (mode 700) is
    # unreachable for it.  Probe as that user rather than guessing from modes.
    if mkdir -p "$dir" 2>/dev/null && chown "$SERVER_USER:" "$dir" 2>/dev/null &&
       as_server test -d "$dir" -a -w "$dir" -a -x "$dir" 2>/dev/null; then
      PG_DIR="$(cd "$dir" && pwd -P)"
    else
      # Do not leave the empty folders of the failed attempt in the repo.
      [[ $existed -eq 0 ]] && rmdir "$dir" 2>/dev/null || true
      [[ $explicit -eq 0 && $dot_existed -eq 0 ]] && rmdir "$REPO/.data" 2>/dev/null || true
      [[ $explicit -eq 1 ]] &&
        die "FRESHET_PG_DIR=$dir is not writable by the '$SERVER_USER' user; pick a folder it can reach"
      # Stable per-repo fallback: a short hash of the repo path, so each
      # checkout keeps finding its own data on every run.
      local h; h="$(printf '%s' "$REPO" | sha256sum | cut -c1-8)"
      dir="/var/tmp/freshet-pg-$h"
      # Say so once, when the fallback is created; `status` always shows the
      # folder in use.
      if [[ ! -d "$dir" ]]; then
        say "note: '$SERVER_USER' cannot write $REPO/.data/pg; using $dir instead"
        mkdir -p "$dir"
      fi
      chown "$SERVER_USER:" "$dir" && chmod 700 "$dir"
      PG_DIR="$dir"
    fi
    # Data dirs left behind owned by someone else (e.g. copied by root) would
    # make pg_ctl refuse to start; hand them back to the server user.
    local sub
    for sub in primary replica; do
      if [[ -d "$PG_DIR/$sub" && "$(stat -c %U "$PG_DIR/$sub")" != "$SERVER_USER" ]]; then
        chown -R "$SERVER_USER:" "$PG_DIR/$sub"
      fi
    done
  else
    mkdir -p "$dir" || die "cannot create data folder $dir"
    [[ -w "$dir" ]] || die "data folder $dir is not writable by $(id -un)"
    PG_DIR="$(cd "$dir" && pwd -P)"
  fi
  PRIMARY_DIR="$PG_DIR/primary"
  REPLICA_DIR="$PG_DIR/replica"
  REPLICAS="$(cat "$PG_DIR/replicas" 2>/dev/null || echo 1)"
  [[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || REPLICAS=1
  # Unix sockets go in the data folder itself (owned by the server user), so
  # the permissions of /var/run/postgresql never matter.  Socket paths are
  # limited to ~107 bytes; for very deep folders we go TCP-only (the script
  # always connects over 127.0.0.1 anyway).
  if (( ${#PG_DIR} + 20 < 100 )); then SOCKET_DIR="$PG_DIR"; else SOCKET_DIR=""; fi
}

# ------------------------------------------------------------ standby N --
# Standby 1 keeps the names a single-standby rig always had (data folder
# replica, slot freshet_replica, port FRESHET_PG_REPLICA_PORT); standby N > 1
# gets replicaN, freshet_replicaN and the port N - 1 above it.
replica_dir() { [[ "$1" == 1 ]] && echo "$PG_DIR/replica" || echo "$PG_DIR/replica$1"; }
replica_port() { echo $(( REPLICA_PORT + $1 - 1 )); }
replica_slot() { [[ "$1" == 1 ]] && echo "$SLOT_NAME" || echo "$SLOT_NAME$1"; }
replica_label() { [[ "$1" == 1 ]] && echo "replica" || echo "replica $1"; }
# initial_delay N: the apply delay standby N is created with.
initial_delay() {
  local delays=() d
  IFS=',' read -ra delays <<<"$APPLY_DELAYS_MS"
  d="${delays[$(( $1 - 1 ))]:-}"
  d="${d// /}"
  [[ -n "$d" ]] && echo "$d" || echo "$APPLY_DELAY_MS"
}
# replica_number ARG: ARG when it is a standby this rig has, else die.
replica_number() {
  [[ "$1" =~ ^[1-9][0-9]*$ ]] && (( $1 <= REPLICAS )) || die "no standby '$1' (this rig has $REPLICAS: 1..$REPLICAS)"
  echo "$1"
}

# standby [N]: sets SN, SDIR and SPORT to standby N (default 1) of this rig, or dies.
standby() {
  SN="$(replica_number "${1:-1}")"
  SDIR="$(replica_dir "$SN")"
  SPORT="$(replica_port "$SN")"
}

# ----------------------------------------------------------------- helpers --
# q PORT [DB] SQL: run one statement, unaligned/tuples-only output, no psqlrc.
q() {
  local port="$1" db="$DB_NAME" sql
  if [[ $# -eq 3 ]]; then db="$2"; sql="$3"; else sql="$2"; fi
  "$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$port user=$DB_USER dbname=$db" -c "$sql"
}

# postmaster_zombie DATADIR: the PID in postmaster.pid is a zombie, i.e. the
# server died (crash, kill -9) and nobody has reaped it yet.  pg_ctl (and the
# postmaster's own lock-file check) only ask kill(pid, 0), which succeeds
# for zombies, so such a dead server looks "running".  We saw this for real
# in containers whose PID 1 reaps orphans lazily.
postmaster_zombie() {
  local pid
  pid="$(head -n1 "$1/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

not_zombie() { ! postmaster_zombie "$1"; }

is_running() {  # is_running DATADIR -> 0 when a live postmaster runs on it
  [[ -f "$1/PG_VERSION" ]] || return 1
  as_server "$BIN/pg_ctl" status -D "$1" >/dev/null 2>&1 || return 1
  ! postmaster_zombie "$1"
}

# -U/-d given explicitly: without them pg_isready logs in as the OS user
# (root) and every probe leaves a 'role "root" does not exist' in the log.
accepting() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U "$DB_USER" -d postgres -t 2 >/dev/null 2>&1; }

port_busy() {  # something (anything) already listens on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# write_rig_conf DATADIR PORT NAME [extra lines]: the part of the config that
# depends on *current* settings (ports, socket folder).  It is regenerated on
# every start and included last from postgresql.conf, so changing
# FRESHET_PG_*_PORT between runs just works.
write_rig_conf() {
  local dir="$1" port="$2" name="$3"; shift 3
  {
    echo "# generated by scripts/db.sh on every start -- do not edit"
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$SOCKET_DIR'"
    echo "cluster_name = '$name'"
    local line; for line in "$@"; do echo "$line"; done
  } | as_server tee "$dir/freshet-rig.conf" >/dev/null
}

port_taken() {
  die "port $1 ($2) is already in use by another process -- probably the rig of another checkout (this one's data: $PG_DIR). Never stop a server that is not yours; pick free ports instead, e.g. FRESHET_PG_PRIMARY_PORT=$((PRIMARY_PORT + 1000)) FRESHET_PG_REPLICA_PORT=$((REPLICA_PORT + 1000))"
}

start_server() {  # start_server DATADIR PORT LABEL
  local dir="$1" port="$2" label="$3"
  if is_running "$dir"; then return 0; fi
  if port_busy "$port"; then
    port_taken "$port" "$label"
  fi
  # A crashed-but-unreaped postmaster still "owns" the lock file; the new
  # postmaster would refuse to start until the zombie is gone.
  if postmaster_zombie "$dir"; then
    say "$label died and is not reaped yet; waiting for it to go away"
    wait_until 30 reaped not_zombie "$dir" ||
      die "the dead $label postmaster (PID in $dir/postmaster.pid) is still a zombie; its parent must reap it"
  fi
  say "starting $label on port $port"
  # pg_ctl copes with a stale postmaster.pid left by a crash by itself.
  if ! as_server "$BIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t "$START_TIMEOUT_S" >/dev/null; then
    tail -n 20 "$dir/server.log" >&2 || true
    die "$label failed to start; see $dir/server.log"
  fi
}

wait_until() {  # wait_until SECONDS DESCRIPTION CMD... : poll CMD every 0.2 s
  local secs="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@"; do
    (( $(date +%s) < deadline )) || return 1
    sleep 0.2
  done
}

standby_streaming() {  # standby_streaming [N]
  local slot; slot="$(replica_slot "${1:-1}")"
  [[ "$(q "$PRIMARY_PORT" postgres "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$slot' AND state = 'streaming'" 2>/dev/null)" -ge 1 ]] 2>/dev/null
}

# ------------------------------------------------------------ init primary --
init_primary() {
  say "initialising primary in $PRIMARY_DIR"
  local tmp="$PRIMARY_DIR.tmp" pw="$PG_DIR/.pwfile"
  # Build in a temp dir and rename at the end: an interrupted initdb must not
  # leave a half-made data dir that the next `start` mistakes for a real one.
  as_server rm -rf "$tmp"
  printf '%s\n' "$DB_PASSWORD" | as_server tee "$pw" >/dev/null
  # -U freshet: the superuser *is* the app role, password from a pwfile so it
  # never shows up in `ps`.  C locale: no dependency on installed locales.
  # --no-sync: throwaway rig (fsync is off anyway); fsyncing every new file
  # made initdb take seconds on slow disks.
  if ! as_server "$BIN/initdb" -D "$tmp" -U "$DB_USER" --pwfile="$pw" --no-sync \
        -E UTF8 --locale=C --auth-local=trust --auth-host=trust >"$PG_DIR/initdb.log" 2>&1; then
    as_server rm -f "$pw"; cat "$PG_DIR/initdb.log" >&2
    die "initdb failed (log: $PG_DIR/initdb.log)"
  fi
  as_server rm -f "$pw"

  as_server tee -a "$tmp/postgresql.conf" >/dev/null <<'EOF'

# ---- Freshet rig (scripts/db.sh) -------------------------------------------
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_connections = 300
# Keep plenty of WAL around even without the slot (e.g. while re-cloning).
wal_keep_size = '512MB'
shared_buffers = 128MB
# Throwaway test rig: durability is worthless here, speed is not.  A crash
# may corrupt the cluster; `scripts/db.sh reset` rebuilds it in seconds.
fsync = off
full_page_writes = off
# IMPORTANT: keep synchronous_commit ON.  Walsenders only ship WAL that has
# been flushed locally; with synchronous_commit=off a commit's WAL may sit in
# the buffer for up to wal_writer_delay (200 ms) before it is shipped, which
# would add random replication lag and distort every lag measurement.
synchronous_commit = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
# Settings that depend on the current run (port, sockets, ...).  Must stay
# last so that it wins over anything above.
include_if_exists = 'freshet-rig.conf'
EOF

  # Trust on loopback only: the servers listen on 127.0.0.1 exclusively, so
  # only local processes can connect, and trust spares every test and tool a
  # password dance.  (The freshet role still has password 'freshet', so URIs
  # with a password work too.)  No ::1 lines: we do not listen on IPv6.
  as_server tee "$tmp/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
local   replication  all                  trust
EOF
  as_server mv "$tmp" "$PRIMARY_DIR"
}

# ------------------------------------------------------------ init replica --
create_replica() {  # create_replica N
  local n="$1" dir slot delay
  dir="$(replica_dir "$n")"; slot="$(replica_slot "$n")"; delay="$(initial_delay "$n")"
  [[ "$delay" =~ ^[0-9]+$ ]] || die "the initial apply delay of standby $n must be an integer number of ms (got '$delay')"
  say "cloning standby $n into $dir (pg_basebackup)"
  local tmp="$dir.tmp"
  as_server rm -rf "$tmp"
  # A slot left over from an earlier standby (its data dir is gone) is stale:
  # drop it so `pg_basebackup -C` can create it afresh.  If we kept it, it
  # would pin all WAL since the old standby disappeared.
  q "$PRIMARY_PORT" postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot' AND NOT active" >/dev/null
  # -c fast: checkpoint at once instead of spreading it; --no-sync: same
  # reasoning as for initdb.
  # -C -S: create the physical slot now, so the primary keeps every WAL
  # segment the standby has not received yet -- a delayed standby must never
  # fall off the end of the kept WAL.  -R writes standby.signal.
  if ! as_server "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$DB_USER" \
        -D "$tmp" -R -X stream -C -S "$slot" -c fast --no-sync >"$PG_DIR/basebackup.log" 2>&1; then
    cat "$PG_DIR/basebackup.log" >&2
    die "pg_basebackup failed (log: $PG_DIR/basebackup.log)"
  fi
  # -R put primary_conninfo/primary_slot_name into postgresql.auto.conf,
  # which would override our per-start freshet-rig.conf; move them there
  # instead (see start) so that a changed primary port is picked up.
  as_server sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$tmp/postgresql.auto.conf"
  # The copy carries the primary's server.log and freshet-rig.conf; the log
  # would be confusing, the rig conf is rewritten on start anyway.
  as_server truncate -s 0 "$tmp/server.log" 2>/dev/null || true
  as_server tee -a "$tmp/postgresql.conf" >/dev/null <<EOF

# ---- Freshet rig: standby ---------------------------------------------------
hot_standby = on
# The whole point of the rig: replay (and so visibility) lags the primary.
# Change it at runtime with: scripts/db.sh set-delay MS
recovery_min_apply_delay = '${delay}ms'
# Let the primary know what the standby still reads, so vacuum on the primary
# does not cancel long standby queries.
hot_standby_feedback = on
# Report write/flush/apply positions every second: keeps
# pg_stat_replication (and replay_lag) fresh for the lag tooling.
wal_receiver_status_interval = '1s'
max_standby_streaming_delay = '30s'
include_if_exists = 'freshet-rig.conf'
EOF
  as_server mv "$tmp" "$dir"
}

# start_replica N: creates standby N when it is missing, starts it and waits until it streams.
start_replica() {
  local n="$1" dir port slot label
  dir="$(replica_dir "$n")"; port="$(replica_port "$n")"; slot="$(replica_slot "$n")"; label="$(replica_label "$n")"
  [[ -f "$dir/PG_VERSION" ]] || { as_server rm -rf "$dir"; create_replica "$n"; }
  write_rig_conf "$dir" "$port" "freshet_$slot" \
    "primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=$DB_USER application_name=$slot'" \
    "primary_slot_name = '$slot'"
  start_server "$dir" "$port" "$label"
  wait_until "$START_TIMEOUT_S" "$label" accepting "$port" ||
    die "$label does not accept connections on port $port; see $dir/server.log"
  wait_until "$START_TIMEOUT_S" streaming standby_streaming "$n" ||
    die "$label is up but not streaming from the primary after ${START_TIMEOUT_S}s; see $dir/server.log and $PRIMARY_DIR/server.log"
}

# drop_replica N: stops standby N, deletes it and its slot (a rig shrunk with start --replicas).
drop_replica() {
  local n="$1" dir slot
  dir="$(replica_dir "$n")"; slot="$(replica_slot "$n")"
  stop_server "$dir"
  as_server rm -rf "$dir"
  q "$PRIMARY_PORT" postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot' AND NOT active" >/dev/null
  say "dropped standby $n"
}

# ---------------------------------------------------------------- commands --
cmd_start() {
  resolve_pg_dir
  if [[ "${1:-}" == --replicas ]]; then
    [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/db.sh start [--replicas N]   (N >= 1)"
    WANT_REPLICAS="$2"
  elif [[ $# -gt 0 ]]; then
    die "usage: scripts/db.sh start [--replicas N]"
  else
    WANT_REPLICAS="$REPLICAS"
  fi
  need_bindir install
  [[ "$APPLY_DELAY_MS" =~ ^[0-9]+$ ]] || die "FRESHET_APPLY_DELAY_MS must be an integer number of ms (got '$APPLY_DELAY_MS')"
  [[ "$PRIMARY_PORT" != "$REPLICA_PORT" ]] || die "primary and replica ports must differ"

  # Fail before creating anything if another rig (e.g. another checkout's)
  # already holds our ports.
  is_running "$PRIMARY_DIR" || ! port_busy "$PRIMARY_PORT" || port_taken "$PRIMARY_PORT" primary
  local n
  for n in $(seq 1 "$WANT_REPLICAS"); do
    [[ "$(replica_port "$n")" != "$PRIMARY_PORT" ]] || die "standby $n would listen on the primary's port $PRIMARY_PORT; pick other ports"
    is_running "$(replica_dir "$n")" || ! port_busy "$(replica_port "$n")" || port_taken "$(replica_port "$n")" "$(replica_label "$n")"
  done

  if [[ ! -f "$PRIMARY_DIR/PG_VERSION" ]]; then
    # A standby cloned from a previous primary cannot follow a new one.
    local orphan
    for orphan in "$PG_DIR"/replica "$PG_DIR"/replica[0-9]*; do
      [[ -d "$orphan" ]] || continue
      say "primary is missing; discarding the orphaned standby $orphan too"
      is_running "$orphan" && as_server "$BIN/pg_ctl" stop -D "$orphan" -m fast >/dev/null
      as_server rm -rf "$orphan"
    done
    as_server rm -rf "$PRIMARY_DIR"   # leftovers without PG_VERSION are junk
    init_primary
  fi
  write_rig_conf "$PRIMARY_DIR" "$PRIMARY_PORT" freshet_primary
  start_server "$PRIMARY_DIR" "$PRIMARY_PORT" primary
  wait_until "$START_TIMEOUT_S" primary accepting "$PRIMARY_PORT" ||
    die "primary does not accept connections on port $PRIMARY_PORT; see $PRIMARY_DIR/server.log"
  # Idempotent: create the app database once.
  if [[ "$(q "$PRIMARY_PORT" postgres "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'")" == 0 ]]; then
    q "$PRIMARY_PORT" postgres "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
  fi

  for n in $(seq $(( WANT_REPLICAS + 1 )) "$REPLICAS"); do
    drop_replica "$n"
  done
  for n in $(seq 1 "$WANT_REPLICAS"); do
    start_replica "$n"
  done
  REPLICAS="$WANT_REPLICAS"
  echo "$REPLICAS" | as_server tee "$PG_DIR/replicas" >/dev/null

  echo "primary  $(uri "$PRIMARY_PORT")"
  for n in $(seq 1 "$REPLICAS"); do
    printf '%-8s %s  (recovery_min_apply_delay=%s)\n' "$(replica_label "$n" | tr -d ' ')" "$(uri "$(replica_port "$n")")" \
      "$(q "$(replica_port "$n")" "SHOW recovery_min_apply_delay")"
  done
}

# stop_server DIR: a fast shutdown of the server of DIR, if it runs; waits for it.
stop_server() {
  is_running "$1" || return 0
  as_server "$BIN/pg_ctl" stop -D "$1" -m fast -w -t "$START_TIMEOUT_S" >/dev/null
}

# start_accepting DIR PORT LABEL: starts the server of DIR and waits until it accepts connections.
start_accepting() {
  start_server "$1" "$2" "$3"
  wait_until "$START_TIMEOUT_S" "$3" accepting "$2" ||
    die "$3 does not accept connections on port $2; see $1/server.log"
}

cmd_stop() {
  resolve_pg_dir
  if ! find_bindir; then say "no PostgreSQL binaries, so nothing can be running"; return 0; fi
  local dir label n
  # Standbys first: then the primary's shutdown does not have to wait for a
  # walsender to hand the final WAL to them.
  local labels=() dirs=()
  for n in $(seq 1 "$REPLICAS"); do labels+=("$(replica_label "$n")"); dirs+=("$(replica_dir "$n")"); done
  labels+=(primary); dirs+=("$PRIMARY_DIR")
  for n in "${!labels[@]}"; do
    label="${labels[$n]}"; dir="${dirs[$n]}"
    if is_running "$dir"; then
      say "stopping $label"
      stop_server "$dir"
    else
      say "$label not running"
    fi
  done
}

cmd_reset() {
  cmd_stop
  local replicas="$REPLICAS"
  say "deleting $PG_DIR"
  # Delete the contents, not the folder: it may be a fallback folder whose
  # ownership we set up, and the socket lives here.
  find "$PG_DIR" -mindepth 1 -delete
  REPLICAS=1
  cmd_start --replicas "$replicas"
}

cmd_status() {
  resolve_pg_dir
  need_bindir
  echo "data folder: $PG_DIR   (binaries: $BIN)"
  local p_up=0 n port label
  if is_running "$PRIMARY_DIR"; then p_up=1; echo "primary: running  port $PRIMARY_PORT  $(uri "$PRIMARY_PORT")"
  else echo "primary: not running  (port $PRIMARY_PORT)"; fi
  for n in $(seq 1 "$REPLICAS"); do
    port="$(replica_port "$n")"; label="$(replica_label "$n")"
    if is_running "$(replica_dir "$n")"; then
      echo "$label: running  port $port  $(uri "$port")"
      echo "$label: recovery_min_apply_delay = $(q "$port" "SHOW recovery_min_apply_delay")"
      q "$port" "SELECT '$label: in_recovery=' || pg_is_in_recovery()
          || '  received=' || coalesce(pg_last_wal_receive_lsn()::text, '-')
          || '  replayed=' || coalesce(pg_last_wal_replay_lsn()::text, '-')
          || '  last replayed commit ' || coalesce(round(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::text || ' ms ago', 'n/a')"
    else
      echo "$label: not running  (port $port)"
    fi
  done
  if (( p_up )); then
    local rows
    rows="$(q "$PRIMARY_PORT" postgres "SELECT 'primary: standby ' || application_name || ' state=' || state
        || '  sent=' || sent_lsn || ' flush=' || coalesce(flush_lsn::text, '-') || ' replay=' || coalesce(replay_lsn::text, '-')
        || '  replay_lag=' || coalesce(replay_lag::text, '-') FROM pg_stat_replication")"
    echo "${rows:-primary: no standby connected}"
    q "$PRIMARY_PORT" postgres "SELECT 'primary: slot ' || slot_name || ' active=' || active || ' restart_lsn=' || coalesce(restart_lsn::text, '-') FROM pg_replication_slots"
  fi
}

cmd_set_delay() {
  local ms="${1:-}"
  [[ "$ms" =~ ^[0-9]+$ ]] || die "usage: scripts/db.sh set-delay MS [N]   (integer milliseconds, e.g. 400; standby N, default 1)"
  resolve_pg_dir
  need_bindir
  standby "${2:-1}"
  local dir="$SDIR" port="$SPORT"
  is_running "$dir" || die "standby $SN is not running; run 'scripts/db.sh start' first"
  # What we learned (PostgreSQL 15): ALTER SYSTEM is accepted on a hot
  # standby.  It is not a transactional/WAL-logged write -- it only rewrites
  # the standby's own postgresql.auto.conf -- so read-only recovery does not
  # block it.  recovery_min_apply_delay is a SIGHUP setting, so
  # pg_reload_conf() applies it without a restart, and the startup process
  # re-evaluates a commit it is currently holding back with the new value.
  # So no need to edit postgresql.auto.conf by hand.
  q "$port" "ALTER SYSTEM SET recovery_min_apply_delay = '${ms}ms'" >/dev/null
  q "$port" "SELECT pg_reload_conf()" >/dev/null
  # The reload is asynchronous (SIGHUP to the postmaster, then to each
  # backend), so poll from fresh sessions until the new value is visible.
  # pg_settings.setting is always in ms, so '1s' vs '1000ms' cannot fool us.
  local i got=""
  for i in $(seq 1 50); do
    got="$(q "$port" "SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'")"
    [[ "$got" == "$ms" ]] && break
    sleep 0.1
  done
  [[ "$got" == "$ms" ]] || die "standby still reports recovery_min_apply_delay=${got}ms after reload; see $dir/server.log"
  echo "recovery_min_apply_delay = $(q "$port" "SHOW recovery_min_apply_delay")"
}

probe_replayed() {
  [[ "$(q "$REPLICA_PORT" "SELECT count(*) FROM rig_probe" 2>/dev/null)" == 1 ]]
}

# Cleanup for `measure`: never leave our background poller or temp file behind.
MEASURE_OUT="" POLLER_PID=""
measure_cleanup() {
  [[ -n "$POLLER_PID" ]] && kill "$POLLER_PID" 2>/dev/null || true
  [[ -n "$MEASURE_OUT" ]] && rm -f "$MEASURE_OUT" || true
}

cmd_measure() {
  trap measure_cleanup EXIT
  resolve_pg_dir
  need_bindir
  is_running "$PRIMARY_DIR" && is_running "$REPLICA_DIR" || die "rig is not running; run 'scripts/db.sh start' first"
  q "$PRIMARY_PORT" "SET client_min_messages = warning;
                     CREATE TABLE IF NOT EXISTS rig_probe(id int PRIMARY KEY, v bigint);
                     INSERT INTO rig_probe VALUES (1, 0) ON CONFLICT (id) DO NOTHING" >/dev/null
  # The standby must have replayed the table and its row before a poller can
  # query it (with a long delay this takes at least that delay).
  wait_until 30 probe probe_replayed ||
    die "standby never saw rig_probe; is it replaying? see 'scripts/db.sh status'"

  local delay_cfg; delay_cfg="$(q "$REPLICA_PORT" "SHOW recovery_min_apply_delay")"
  say "measuring visibility delay primary -> standby (standby recovery_min_apply_delay=$delay_cfg)"
  MEASURE_OUT="$(mktemp)"
  local out="$MEASURE_OUT" results=() run
  for run in 1 2 3 4 5; do
    : >"$out"
    # The poller runs on the standby *before* the write, as a single session
    # (a fresh psql per poll would take longer than the thing we measure).
    # Each query in the DO loop takes a new snapshot (READ COMMITTED), so it
    # sees the row as soon as the standby replays the commit.  The value
    # written is the primary's clock at write time (in µs); both servers
    # share this host's clock, so seen - written is the visibility delay.
    "$BIN/psql" -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$REPLICA_PORT user=$DB_USER dbname=$DB_NAME" -c "
      DO \$\$
      DECLARE
        t0 bigint := (extract(epoch FROM clock_timestamp()) * 1e6)::bigint;
        w bigint;
      BEGIN
        RAISE NOTICE 'ready';
        LOOP
          SELECT v INTO w FROM rig_probe WHERE id = 1;
          EXIT WHEN w > t0;
          IF clock_timestamp() > to_timestamp(t0 / 1e6) + interval '60 s' THEN
            RAISE EXCEPTION 'standby did not see the write within 60 s';
          END IF;
          PERFORM pg_sleep(0.002);
        END LOOP;
        RAISE NOTICE 'delay_us=%', (extract(epoch FROM clock_timestamp()) * 1e6)::bigint - w;
      END \$\$" >"$out" 2>&1 &
    POLLER_PID=$!
    local i
    for i in $(seq 1 500); do grep -q ready "$out" && break; sleep 0.01; done
    grep -q ready "$out" || { cat "$out" >&2; die "standby poller did not start"; }
    q "$PRIMARY_PORT" "UPDATE rig_probe SET v = (extract(epoch FROM clock_timestamp()) * 1e6)::bigint WHERE id = 1" >/dev/null
    wait "$POLLER_PID" || { cat "$out" >&2; die "standby poller failed"; }
    POLLER_PID=""
    local us; us="$(sed -n 's/.*delay_us=\([0-9-]*\).*/\1/p' "$out")"
    [[ -n "$us" ]] || { cat "$out" >&2; die "could not parse the poller output"; }
    results+=("$us")
    printf 'run %d: %s ms\n' "$run" "$(awk -v u="$us" 'BEGIN { printf "%.1f", u / 1000 }')"
  done
  printf 'median: %s ms  (standby recovery_min_apply_delay=%s)\n' \
    "$(printf '%s\n' "${results[@]}" | sort -n | awk 'NR == 3 { printf "%.1f", $1 / 1000 }')" "$delay_cfg"
}

cmd_replica() {
  resolve_pg_dir
  need_bindir
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then standby "$1"; shift; else standby 1; fi
  local n="$SN" what="${1:-}" dir="$SDIR" port="$SPORT"
  case "$what" in
    pause|resume)
      is_running "$dir" || die "standby $n is not running"
      q "$port" "SELECT pg_wal_replay_$what()" >/dev/null
      echo "standby $n replay: $(q "$port" "SELECT pg_get_wal_replay_pause_state()")"
      ;;
    stop)
      stop_server "$dir"
      echo "standby $n stopped"
      ;;
    start)
      start_accepting "$dir" "$port" "$(replica_label "$n")"
      wait_until "$START_TIMEOUT_S" streaming standby_streaming "$n" ||
        die "standby $n is up but not streaming; see $dir/server.log"
      echo "standby $n started"
      ;;
    set-delay)
      cmd_set_delay "${2:-}" "$n"
      ;;
    *) die "usage: scripts/db.sh replica [N] pause|resume|stop|start|set-delay MS" ;;
  esac
}

cmd_promote() {
  resolve_pg_dir
  need_bindir
  standby "${1:-1}"
  local n="$SN" dir="$SDIR" port="$SPORT"
  is_running "$dir" || die "standby $n is not running"
  [[ "$(q "$port" "SELECT pg_is_in_recovery()")" == t ]] || die "standby $n is not in recovery (already promoted?)"
  is_running "$PRIMARY_DIR" && say "warning: the primary still runs; two primaries now accept writes (stop it first: 'scripts/db.sh primary stop')"
  # pg_promote waits (60 s at most) until the standby has left recovery. A
  # paused replay is resumed by the promotion itself; a standby that applies
  # commits late first applies every WAL record it has received.
  [[ "$(q "$port" "SELECT pg_promote(true, 60)")" == t ]] || die "standby $n did not finish promoting within 60 s; see $dir/server.log"
  echo "promoted standby $n: primary now $(uri "$port")"
}

cmd_primary() {
  local what="${1:-}"
  resolve_pg_dir
  need_bindir
  case "$what" in
    stop)
      stop_server "$PRIMARY_DIR"
      echo "primary stopped"
      ;;
    start)
      start_accepting "$PRIMARY_DIR" "$PRIMARY_PORT" primary
      echo "primary started"
      ;;
    *) die "usage: scripts/db.sh primary stop|start" ;;
  esac
}

cmd_env() {
  resolve_pg_dir
  echo "export FRESHET_DB_PRIMARY_URI=$(uri "$PRIMARY_PORT")"
  echo "export FRESHET_DB_REPLICA_URI=$(uri "$REPLICA_PORT")"
  if (( REPLICAS > 1 )); then
    local n uris=()
    for n in $(seq 1 "$REPLICAS"); do uris+=("$(uri "$(replica_port "$n")")"); done
    echo "export FRESHET_RIG_REPLICA_URIS=$(IFS=,; echo "${uris[*]}")"
  fi
}

cmd_psql() {
  local which="${1:-}" port
  case "$which" in
    primary) port="$PRIMARY_PORT" ;;
    replica) port="$REPLICA_PORT" ;;
    replica-[0-9]*) resolve_pg_dir; port="$(replica_port "$(replica_number "${which#replica-}")")" ;;
    *) die "usage: scripts/db.sh psql primary|replica|replica-N [psql args...]" ;;
  esac
  shift
  find_bindir || need_bindir
  exec "$BIN/psql" "host=127.0.0.1 port=$port user=$DB_USER dbname=$DB_NAME" "$@"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start)     cmd_start "$@" ;;
    stop)      cmd_stop ;;
    reset)     cmd_reset ;;
    status)    cmd_status ;;
    set-delay) cmd_set_delay "$@" ;;
    replica)   cmd_replica "$@" ;;
    primary)   cmd_primary "$@" ;;
    promote)   cmd_promote "$@" ;;
    measure)   cmd_measure ;;
    env)       cmd_env ;;
    psql)      cmd_psql "$@" ;;
    ""|-h|--help|help) usage; [[ -n "$cmd" ]] ;;
    *) say "unknown command: $cmd"; usage; exit 2 ;;
  esac
}

main "$@"
