#!/usr/bin/env bash
# Runs schemathesis against the built emulator, checked against the emulator's own
# /openapi.json: no 5xx, every response matching its documented schema and status.
# Server on a temp SQLite database and a free loopback port; demo identities. Two passes:
#   1. as alice ("KMS Administrator", who also made the examples' keys and grants):
#      every action's success path and its input rules;
#   2. as bob (no KMS permission; one grant of describe-key, encrypt-data and decrypt-data
#      on the examples' key): the refusals (403 KMS.0306 on a key, KMS.0307 on no key)
#      must be documented too, and must have been answered.
# Exits non-zero on any failure and prints how many cases ran.
#
#   bash clients/schemathesis/run.sh           # after `cargo build --bin kms-emulator`
#   SCHEMATHESIS_MAX_EXAMPLES=100              (per operation and phase, pass 1; the default)
#   SCHEMATHESIS_NOPERM_MAX_EXAMPLES=20        (the same for pass 2)
#   KMS_ST_VENV=/path/to/venv                  (default: clients/schemathesis/.venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

require_tools curl python3
make_venv "${KMS_ST_VENV:-$here/.venv}"

# The demo identities' project and users (README, "Demo identities").
project="0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
admin_token="demo-token-alice"
noperm_token="demo-token-bob"
noperm_id="b0b00000000000000000000000000002"
base="http://127.0.0.1:$port"
start_emulator --database-url "sqlite://$work/kms.db"

# The served document, fixed to the demo project, with example bodies naming keys,
# grants and ciphertexts alice made for the purpose (see prepare.py).
"$venv/bin/python" "$here/prepare.py" "$base" "$admin_token" "$project" "$noperm_id" "$work/openapi.json"

version=$("$venv/bin/schemathesis" --version | grep -o '[0-9.]*$')
rc=0
summary=()
# pass NAME TOKEN MAX_EXAMPLES DOCUMENT: one schemathesis run; appends its case count to `summary`.
pass() {
  local name=$1 token=$2 max=$3 document=$4 log="$work/schemathesis-$1.log" pass_rc=0 seed=20261124 cases
  for attempt in 1 2; do
    pass_rc=0
    echo "== schemathesis $version against $base as $name (max $max examples per operation and phase, seed $seed)"
    # From the temp dir, so schemathesis's cache (.schemathesis/) stays out of the work tree.
    # One worker: with two, Hypothesis in both threads parses source files with ast.parse to
    # name its lambdas, and CPython 3.11 keeps the AST constructor's recursion depth in state
    # shared by the threads (cpython gh-106905), so the parses race and one raises "AST
    # constructor recursion depth mismatch". Seen 2026-11-30 in 3 of 5 passes with 2 workers,
    # on different operations and seeds; never a request or a finding about the emulator.
    (cd "$work" && "$venv/bin/schemathesis" run "$document" \
      --url "$base" \
      --header "X-Auth-Token: $token" \
      --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
      --phases examples,coverage,fuzzing \
      --mode all \
      --max-examples "$max" \
      --seed "$seed" \
      --workers 1 \
      --request-timeout 10 \
      --no-color) 2>&1 | tee "$log" || pass_rc=$?
    # "Test cases:" is followed by "N generated, N passed[, N failed...]" on the next line.
    cases=$(grep -A1 '^Test cases:' "$log" | grep -o '[0-9]* generated' | grep -o '[0-9]*' || echo "?")
    # A pass in which every test case passed but schemathesis stopped on its own crash, the
    # CPython 3.11 "AST constructor recursion depth mismatch" raised inside Hypothesis while it
    # names a strategy (seen 2026-11-30 on resource_instances/action and aliases, no request
    # involved, with two workers; kept as a net with one), is not a finding about the
    # emulator: it runs once more with the next seed. A failed test
    # case is never retried, and the server log's 5xx check below covers both attempts.
    if [ "$pass_rc" != 0 ] && [ "$attempt" = 1 ] \
      && ! grep -A1 '^Test cases:' "$log" | grep -q ' failed' \
      && grep -q 'SystemError: AST constructor recursion depth mismatch' "$log"; then
      echo "schemathesis: the pass as $name stopped on schemathesis's own crash (CPython's AST recursion check) after $cases cases, none failed; running it again with seed $((seed + 1))" >&2
      seed=$((seed + 1))
      continue
    fi
    break
  done
  summary+=("$name: $cases cases")
  if [ "$pass_rc" != 0 ]; then
    echo "schemathesis: the pass as $name FAILED (exit $pass_rc) after $cases cases" >&2
    rc=$pass_rc
  fi
}

pass alice "$admin_token" "${SCHEMATHESIS_MAX_EXAMPLES:-100}" "$work/openapi.json"
# Alice's pass renames, rotates and schedules for deletion whatever keys it reaches, those
# of the examples included (schemathesis also tries one operation's example values in
# another's fields): bob's pass gets examples on fresh keys, with a fresh grant.
"$venv/bin/python" "$here/prepare.py" "$base" "$admin_token" "$project" "$noperm_id" "$work/openapi-bob.json"
log_lines_before_bob=$(wc -l <"$work/server.log")
echo "== next: bob holds no KMS permission, so schemathesis's warning that operations returned only 403 is expected"
pass bob "$noperm_token" "${SCHEMATHESIS_NOPERM_MAX_EXAMPLES:-20}" "$work/openapi-bob.json"

# The second pass must have met both refusals and the grant's success paths, or it
# tested less than it says.
bob_log=$(tail -n +"$((log_lines_before_bob + 1))" "$work/server.log")
count() { printf '%s\n' "$bob_log" | grep -c "$1" || true; }
refused_on_key=$(count 'status=403 error_code="KMS.0306"')
refused_no_key=$(count 'status=403 error_code="KMS.0307"')
bob_successes=$(count '/kms/.* status=200 ')
if [ "$refused_on_key" = 0 ] || [ "$refused_no_key" = 0 ] || [ "$bob_successes" = 0 ]; then
  echo "run.sh: the pass as bob saw $refused_on_key KMS.0306, $refused_no_key KMS.0307 and $bob_successes 200 answers; each must be > 0" >&2
  rc=1
fi

successes=$(grep -c '/kms/.* status=200 ' "$work/server.log" || true)
if grep -q '"status":5[0-9][0-9]\| status=5[0-9][0-9]' "$work/server.log"; then
  echo "run.sh: the server logged a 5xx answer:" >&2
  grep '"status":5[0-9][0-9]\| status=5[0-9][0-9]' "$work/server.log" | head -5 >&2
  rc=1
fi
if [ "$rc" != 0 ]; then
  echo "schemathesis: FAILED (exit $rc; ${summary[*]}); the server log's last lines:" >&2
  tail -20 "$work/server.log" >&2
  exit "$rc"
fi
echo "schemathesis: ${summary[0]}, ${summary[1]} ($bob_successes answered 200 through the grant, $refused_on_key refused with KMS.0306, $refused_no_key with KMS.0307); $successes answered 200 in all; no 5xx, no schema or status violation"
