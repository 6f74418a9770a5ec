# Shared by the real-client runners (clients/*/run.sh): the built binary, a venv with
# pinned requirements, a fresh PostgreSQL database, and the emulator on a free loopback
# port, all cleaned up on exit. Source it after `set -euo pipefail` with `here` set to the
# runner's directory.

root="$(cd "$here/../.." && pwd)"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/kms-emulator"
work=$(mktemp -d)
pid=""
pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db=""

cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$db" ]; then
    psql "$pg_admin" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# require_tools TOOL...: the built emulator and each tool, or a message saying what is missing.
require_tools() {
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is missing; build it first with: cargo build --bin kms-emulator" >&2
    exit 1
  fi
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 1; }
  done
}

# make_venv PATH: a venv at PATH (kept between runs) with $here/requirements.txt installed;
# sets `venv` and `port` (a free loopback port).
make_venv() {
  venv="$1"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  port=$(free_port)
}

# free_port: a free loopback port, from KMS_PORT_RANGE ("LOW-HIGH", for machines where each
# session owns a range of ports) when it is set, else one the system picks.
free_port() {
  python3 - <<'PY'
import os, random, socket, sys
low, _, high = os.environ.get("KMS_PORT_RANGE", "").partition("-")
candidates = list(range(int(low), int(high) + 1)) if high else [0]
random.shuffle(candidates)
for candidate in candidates:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", candidate))
    except OSError:
        continue
    print(s.getsockname()[1])
    s.close()
    sys.exit(0)
sys.exit("no free port in KMS_PORT_RANGE=" + os.environ.get("KMS_PORT_RANGE", ""))
PY
}

# fresh_postgres_db PREFIX: creates an empty database, dropped on exit; sets `db_url`.
fresh_postgres_db() {
  db="${1}_$$_$RANDOM"
  psql "$pg_admin" -qc "create database $db"
  db_url="${pg_admin%/*}/$db"
}

# start_emulator ARGS...: runs the emulator on 127.0.0.1:$port with ARGS, log in
# $work/server.log, and waits until /ready answers (or fails with the log).
start_emulator() {
  "$bin" --listen "127.0.0.1:$port" "$@" >"$work/server.log" 2>&1 &
  pid=$!
  local _
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: the emulator did not become ready; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
}
