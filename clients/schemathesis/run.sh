#!/usr/bin/env bash
# Runs schemathesis against the built emulator, checked against the emulator's own
# /openapi.json: no 5xx, every response matching its documented schema and status.
# Server on a temp SQLite database and a free loopback port; demo identities; alice's
# X-Auth-Token. Exits non-zero on any failure and prints how many cases ran.
#
#   bash clients/schemathesis/run.sh           # after `cargo build --bin kms-emulator`
#   SCHEMATHESIS_MAX_EXAMPLES=100              (per operation and phase; the default)
#   KMS_ST_VENV=/path/to/venv                  (default: clients/schemathesis/.venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

require_tools curl python3
make_venv "${KMS_ST_VENV:-$here/.venv}"

# Alice of the demo identities, and her project (README, "Demo identities").
token="demo-token-alice"
project="0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
base="http://127.0.0.1:$port"
start_emulator --database-url "sqlite://$work/kms.db"

# The served document, fixed to alice's project, with example bodies naming keys,
# a grant and ciphertexts made for the purpose (see prepare.py).
"$venv/bin/python" "$here/prepare.py" "$base" "$token" "$project" "$work/openapi.json"

echo "== schemathesis $("$venv/bin/schemathesis" --version | grep -o '[0-9.]*$') against $base (max $max_examples examples per operation and phase)"
rc=0
# From the temp dir, so schemathesis's cache (.schemathesis/) stays out of the work tree.
(cd "$work" && "$venv/bin/schemathesis" run "$work/openapi.json" \
  --url "$base" \
  --header "X-Auth-Token: $token" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing \
  --mode all \
  --max-examples "$max_examples" \
  --seed 20261124 \
  --workers 2 \
  --request-timeout 10 \
  --no-color) 2>&1 | tee "$work/schemathesis.log" || rc=$?
# "Test cases:" is followed by "N generated, N passed[, N failed...]" on the next line.
cases=$(grep -A1 '^Test cases:' "$work/schemathesis.log" | grep -o '[0-9]* generated' | grep -o '[0-9]*' || echo "?")
successes=$(grep -c '/kms/.* status=200 ' "$work/server.log" || true)
if grep -q '"status":5[0-9][0-9]\| status=5[0-9][0-9]' "$work/server.log"; then
  echo "run.sh: the server logged a 5xx answer:" >&2
  grep '"status":5[0-9][0-9]\| status=5[0-9][0-9]' "$work/server.log" | head -5 >&2
  rc=1
fi
if [ "$rc" != 0 ]; then
  echo "schemathesis: FAILED (exit $rc) after $cases cases; the server log's last lines:" >&2
  tail -20 "$work/server.log" >&2
  exit "$rc"
fi
echo "schemathesis: $cases cases run ($successes answered 200), no 5xx, no schema or status violation"
