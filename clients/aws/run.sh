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
source "$here/../lib.sh"

require_tools psql curl python3
make_venv "${KMS_AWS_VENV:-$here/.venv}"
fresh_postgres_db kms_awsclient
# A small AWS grant quota (AWS: 50,000), so the suite can reach LimitExceededException.
grant_limit=5
# A second region (eu-nl) beside the default eu-de, for the region tests.
start_emulator --database-url "$db_url" --aws-max-grants-per-key "$grant_limit" --regions eu-nl

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
