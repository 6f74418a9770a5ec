#!/usr/bin/env bash
# Runs the real-client suite (test_sdk.py) against the built emulator on a fresh
# PostgreSQL database: venv + pinned requirements, server on a free loopback port,
# pytest, then cleanup. Exits with pytest's status; "no tests collected" counts as failure.
#
#   bash clients/python/run.sh            # after `cargo build --bin kms-emulator`
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  (the default)
#   KMS_PY_VENV=/path/to/venv             (default: clients/python/.venv, reused between runs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

require_tools psql curl python3
make_venv "${KMS_PY_VENV:-$here/.venv}"
fresh_postgres_db kms_pyclient
start_emulator --database-url "$db_url"

rc=0
KMS_EMULATOR_URL="http://127.0.0.1:$port" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_sdk.py" || rc=$?
if [ "$rc" = 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  rc=1
fi
if [ "$rc" != 0 ]; then
  echo "run.sh: emulator log:" >&2
  tail -50 "$work/server.log" >&2
fi
exit "$rc"
