#!/usr/bin/env bash
# Fault tests (issue 7): drives create/revoke/retire load against the built binary on a
# PRIVATE PostgreSQL cluster and (a) restarts that cluster mid-load, (b) kill -9s the service
# mid-load, (c) starts the service with the database down, (d) sends SIGTERM with requests in
# flight; after each it checks in the database that every acknowledged write is durable and no
# error-answered write took effect (scripts/faults/driver.py).
#
# Usage: scripts/faults/run.sh [--size small|full]     (small: under 2 minutes; run by .ci/run)
# Env:   KMS_BIN   the binary to test (default: cargo build, then $CARGO_TARGET_DIR or target/debug)
#        PG_BIN    PostgreSQL's bin directory (default: newest /usr/lib/postgresql/*/bin, else pg_config)
#        FAULTS_KEEP_WORK=1  keep the work directory (server and PostgreSQL logs) for inspection
#        KMS_PORT_RANGE=LOW-HIGH  take the loopback ports from that range (default: any free port)
# The cluster is private (own port and socket directory, deleted at exit) because restarting the
# shared server on 5432 would break other test runs using it at the same time.
set -euo pipefail
cd "$(dirname "$0")/../.."

size=small
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=${2:?--size needs small or full}; shift 2 ;;
    --size=*) size=${1#--size=}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$size" in small|full) ;; *) echo "--size must be small or full" >&2; exit 2 ;; esac

if [ -z "${KMS_BIN:-}" ]; then
  cargo build --locked --bin kms-emulator >&2
  KMS_BIN="${CARGO_TARGET_DIR:-target}/debug/kms-emulator"
fi
[ -x "$KMS_BIN" ] || { echo "no executable at $KMS_BIN" >&2; exit 1; }

if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$PG_BIN" ] || PG_BIN=$(pg_config --bindir 2>/dev/null || true)
fi
for tool in initdb pg_ctl psql; do
  [ -x "$PG_BIN/$tool" ] || { echo "$tool not found in '$PG_BIN' (install postgresql or set PG_BIN)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/kms-faults.XXXXXX)
chmod 755 "$work"
pgdir="$work/pg"
mkdir -p "$pgdir"
# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
owner=""
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || { echo "running as root needs a '$owner' user to own the cluster" >&2; exit 1; }
  chown "$owner" "$pgdir"
fi
as_owner() {
  if [ -n "$owner" ]; then su "$owner" -s /bin/sh -c "$(printf '%q ' "$@")"; else "$@"; fi
}

# KMS_PORT_RANGE=LOW-HIGH: take the ports (this one and the service's) from that range.
port=$(python3 -c 'import sys; sys.path.insert(0, "scripts/faults"); import driver; print(driver.free_port())')
pg_start() {
  as_owner "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w -t 60 \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1" start >/dev/null
}
cleanup() {
  local rc=$?
  as_owner "$PG_BIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] && [ -d "$work" ]; then
    # The evidence of a failed run, short enough for a CI log: warnings, errors and panics.
    for f in "$work"/server-*.log; do
      [ -f "$f" ] || continue
      echo "--- warnings and errors in $(basename "$f")" >&2
      grep -E 'WARN|ERROR|panicked|^kms-emulator:' "$f" | tail -20 >&2 || true
    done
  fi
  if [ -n "${FAULTS_KEEP_WORK:-}" ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

echo "== private PostgreSQL cluster on 127.0.0.1:$port ($PG_BIN)" >&2
as_owner "$PG_BIN/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >/dev/null
pg_start
"$PG_BIN/psql" "postgres://postgres@127.0.0.1:$port/postgres" -Xqc "create database kms"

python3 scripts/faults/driver.py --size "$size" --bin "$KMS_BIN" --pg-bin "$PG_BIN" \
  --pg-data "$pgdir/data" --pg-port "$port" --pg-socket-dir "$pgdir" --pg-owner "$owner" --work "$work"
