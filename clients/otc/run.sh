#!/usr/bin/env bash
# Runs the otcextensions suite (test_otc.py: openstacksdk + otcextensions, keystone password
# auth against the emulator's IAM) against the built emulator on a fresh PostgreSQL
# database: venv + pinned requirements, server on a free loopback port, pytest, then
# cleanup. Exits with pytest's status; "no tests collected" counts as failure.
#
#   bash clients/otc/run.sh               # after `cargo build --bin kms-emulator`
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  (the default)
#   KMS_OTC_VENV=/path/to/venv            (default: clients/otc/.venv, reused between runs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

require_tools psql curl python3
make_venv "${KMS_OTC_VENV:-$here/.venv}"
fresh_postgres_db kms_otcclient
start_emulator --database-url "$db_url"

rc=0
# No OpenStack configuration of the machine may leak in: the suite names its own cloud.
unset OS_CLOUD OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_PROJECT_ID OS_USER_DOMAIN_NAME \
  OS_PROJECT_DOMAIN_NAME OS_DOMAIN_NAME OS_REGION_NAME OS_TOKEN OS_AUTH_TYPE
export OS_CLIENT_CONFIG_FILE=/dev/null
# openstacksdk's own deprecation notices about its internals (Python warnings, not log
# records) are silenced; every logged WARNING still fails the test (see test_otc.py).
deprecations=(-W "ignore::openstack.warnings.RemovedInSDK50Warning" -W "ignore::openstack.warnings.RemovedInSDK60Warning")
KMS_EMULATOR_URL="http://127.0.0.1:$port" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  "${deprecations[@]}" "$here/test_otc.py" || rc=$?
if [ "$rc" = 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  rc=1
fi
if [ "$rc" != 0 ]; then
  echo "run.sh: emulator log:" >&2
  tail -50 "$work/server.log" >&2
fi
exit "$rc"
