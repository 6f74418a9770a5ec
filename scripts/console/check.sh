#!/usr/bin/env bash
# The operator console in a real browser: starts the built emulator on a free loopback port
# (SQLite, or the database URL given), seeds keys, grants, aliases and refusals through the
# real APIs (Huawei with IAM tokens, AWS signed with SigV4 by curl), then has headless Chromium
# render every console page and checks what it shows (check.py): the DOM after the page's
# script ran (ids, aliases, grant rows, filters, escaping of a hostile description) and a
# screenshot of each page (its size, and that it is not blank). Installs Debian's chromium
# when it is missing (as root), and Pillow into a venv (scripts/console/.venv).
#
#   bash scripts/console/check.sh                 # after `cargo build --bin kms-emulator`
#   bash scripts/console/check.sh postgres://postgres@127.0.0.1:5432/some_db
#   KMS_CONSOLE_SHOTS=/tmp/shots                  # keep the screenshots there
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../clients/lib.sh"
started=$SECONDS

if ! command -v chromium >/dev/null; then
  echo "check.sh: installing Debian's chromium"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
require_tools curl python3 chromium
make_venv "${KMS_CONSOLE_VENV:-$here/.venv}"
start_emulator --database-url "${1:-sqlite://$work/kms.db}"
base="http://127.0.0.1:$port"

# Seeding, through the same APIs clients use (demo identities).
PROJECT=0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c
BOB=b0b00000000000000000000000000002 CAROL=ca401000000000000000000000000003
hw() { curl -sS -X POST "$base/v1.0/$PROJECT/kms/$2" -H 'Content-Type: application/json' \
  -H "X-Auth-Token: demo-token-$1" -d "$3"; }
aws() { curl -sS "$base/" --aws-sigv4 "aws:amz:eu-de:kms" \
  --user DEMOALICEACCESSKEY01:demo-alice-secret-key-0000000000000001 \
  -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: TrentService.$1" -d "$2"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

# A description that would run script if the console did not escape it.
HOSTILE='<script>document.title=\"pwned\"</script><img src=x onerror=\"document.body.dataset.pwned=1\">'
HW_KEY=$(hw alice create-key '{"key_alias":"console-orders","key_description":"'"$HOSTILE"'"}' | field key_info.key_id)
hw bob encrypt-data '{"key_id":"'$HW_KEY'","plain_text":"payroll"}' >/dev/null   # refused: key-use-denied
HW_GRANT=$(hw alice create-grant '{"key_id":"'$HW_KEY'","grantee_principal":"'$BOB'",
  "operations":["describe-key","encrypt-data","decrypt-data"],"retiring_principal":"'$CAROL'","name":"orders-app"}' | field grant_id)
AWS_KEY=$(aws CreateKey '{"Description":"payments"}' | field KeyMetadata.KeyId)
aws CreateAlias '{"AliasName":"alias/console-payments","TargetKeyId":"'$AWS_KEY'"}' >/dev/null
AWS_GRANT=$(aws CreateGrant '{"KeyId":"'$AWS_KEY'","GranteePrincipal":"arn:aws:iam::444455556666:user/erin",
  "Operations":["Encrypt","Decrypt"],"RetiringPrincipal":"arn:aws:iam::444455556666:user/frank",
  "Constraints":{"EncryptionContextSubset":{"app":"payments"}}}' | field GrantId)
echo "check.sh: seeded keys $HW_KEY $AWS_KEY, grants $HW_GRANT $AWS_GRANT"

rc=0
KMS_CONSOLE_SHOTS="${KMS_CONSOLE_SHOTS:-$work/shots}" "$venv/bin/python" "$here/check.py" "$base" \
  "$PROJECT" "$HW_KEY" "$HW_GRANT" "$AWS_KEY" "$AWS_GRANT" || rc=$?
if [ "$rc" != 0 ]; then
  echo "check.sh: emulator log:" >&2
  tail -30 "$work/server.log" >&2
fi
echo "check.sh: $((SECONDS - started)) s"
exit "$rc"
