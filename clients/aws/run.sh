#!/usr/bin/env bash
# Runs the AWS real-client suites (test_boto3.py with boto3, then cli_smoke.sh with the
# aws CLI v1) against the built emulator on a fresh
# PostgreSQL database: venv + pinned requirements, server on a free loopback port,
# pytest, then cleanup. Exits with pytest's status; "no tests collected" counts as failure.
#
#   bash clients/aws/run.sh              # after `cargo build --bin kms-emulator`
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  (the default)
#   KMS_AWS_VENV=/path/to/venv            (default: clients/aws/.venv, reused between runs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

bin="${CARGO_TARGET_DIR:-$root/target}/debug/kms-emulator"
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is missing; build it first with: cargo build --bin kms-emulator" >&2
  exit 1
fi

for tool in psql curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 1; }
done

venv="${KMS_AWS_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"

pg_admin="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="kms_awsclient_$$_$RANDOM"
db_url="${pg_admin%/*}/$db"
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
work=$(mktemp -d)
pid=""

cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql "$pg_admin" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$pg_admin" -qc "create database $db"
# A small AWS grant quota (AWS: 50,000), so the suite can reach LimitExceededException.
grant_limit=5
"$bin" --listen "127.0.0.1:$port" --database-url "$db_url" --aws-max-grants-per-key "$grant_limit" >"$work/server.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 150); do
  if curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "run.sh: the emulator did not become ready; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

rc=0
# No AWS configuration of the machine may leak in: the suites name their own credentials.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
KMS_AWS_MAX_GRANTS_PER_KEY="$grant_limit" KMS_EMULATOR_URL="http://127.0.0.1:$port" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_boto3.py" || rc=$?
if [ "$rc" = 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  rc=1
fi
if [ "$rc" = 0 ]; then
  KMS_EMULATOR_URL="http://127.0.0.1:$port" AWS="$venv/bin/aws" bash "$here/cli_smoke.sh" || rc=$?
fi
if [ "$rc" != 0 ]; then
  echo "run.sh: emulator log:" >&2
  tail -50 "$work/server.log" >&2
fi
exit "$rc"
