#!/usr/bin/env bash
# Runs the AWS SDK for JavaScript v3 suite (test_kms.mjs, node:test) against the built
# emulator on a fresh PostgreSQL database: `npm ci` from the committed package-lock.json
# (node_modules kept between runs), server on a free loopback port, node --test, cleanup.
# Exits with node's status; a run without any test counts as failure.
#
#   bash clients/js/run.sh                # after `cargo build --bin kms-emulator`
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  (the default)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

require_tools psql curl python3 node npm
# The lock file pins every package; reinstall only when it changed since the last install.
if ! cmp -s "$here/package-lock.json" "$here/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$here/node_modules/.package-lock.json.installed"
fi
port=$(free_port)
fresh_postgres_db kms_jsclient
start_emulator --database-url "$db_url"

rc=0
# No AWS configuration of the machine may leak in: the suite names its own credentials.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_REGION
# The pinned SDK supports node 20; its notice is about releases after January 2027.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
KMS_EMULATOR_URL="http://127.0.0.1:$port" node --test --test-reporter=spec "$here/test_kms.mjs" \
  | tee "$work/node.out" || rc=$?
if [ "$rc" = 0 ] && ! grep -Eq '^ℹ pass [1-9]' "$work/node.out"; then
  echo "run.sh: node ran no tests" >&2
  rc=1
fi
if [ "$rc" != 0 ]; then
  echo "run.sh: emulator log:" >&2
  tail -50 "$work/server.log" >&2
fi
exit "$rc"
