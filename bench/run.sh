#!/usr/bin/env bash
# The performance benchmark (issue 6): installs moto into bench/.venv when missing, builds the
# release binary and runs examples/kms_bench.rs with the arguments given, e.g.
#   bench/run.sh --size full --backend all --json bench/report.json
# Needs PostgreSQL on 127.0.0.1:5432 (or BENCH_PG_ADMIN_URL) and pgbench for the Postgres half.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import moto.server' 2>/dev/null; then
  echo "== installing moto[server] into $venv" >&2
  if python3 -m venv "$venv" >/dev/null 2>&1 && "$venv/bin/pip" install -q 'moto[server]==5.2.5'; then
    :
  else
    echo "== moto could not be installed: the benchmark runs without the moto comparison" >&2
  fi
fi

echo "== cargo build --release --bin kms-emulator" >&2
cargo build --release --locked --bin kms-emulator
exec cargo run --release --locked --example kms_bench -- "$@"
