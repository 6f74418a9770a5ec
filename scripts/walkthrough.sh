#!/usr/bin/env bash
# The README's curl walk-through, run against a started server, checking each answer.
# Usage: scripts/walkthrough.sh [BASE_URL]   (default http://127.0.0.1:8080; demo identities)
# It uses the README's own helpers (`kms`, `id_of`) and commands, step by step, so a change
# to what the README shows must be made here too; each step's status and body are checked.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
KMS=$BASE/v1.0/0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c/kms
kms() { curl -s -w ' %{http_code}\n' -X POST "$KMS/$2" -H 'Content-Type: application/json' -H "X-Auth-Token: demo-token-$1" -d "$3"; }
id_of() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\1/"; }
BOB=b0b00000000000000000000000000002 CAROL=ca401000000000000000000000000003

expect() { # expect "BODY STATUS" STATUS [python expression on d, the parsed body]
  local status=${1##* } body=${1% *}
  if [ "$status" != "$2" ]; then echo "FAIL: expected $2, got $1" >&2; exit 1; fi
  if [ -n "${3:-}" ]; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert eval(sys.argv[2]), sys.argv[1]' "$body" "$3" \
      || { echo "FAIL: $3 on $body" >&2; exit 1; }
  fi
  echo "ok   $2 $body"
}

r=$(kms alice create-key '{"key_alias":"orders-'$RANDOM$RANDOM'"}')
expect "$r" 200 'len(d["key_info"]["key_id"]) == 36'
KEY=$(echo "$r" | id_of key_id)

r=$(kms bob encrypt-data '{"key_id":"'$KEY'","plain_text":"payroll"}')
expect "$r" 403 'd["error"]["error_code"] == "KMS.0306"'

r=$(kms alice create-grant '{"key_id":"'$KEY'","grantee_principal":"'$BOB'",
  "operations":["describe-key","encrypt-data","decrypt-data"],"retiring_principal":"'$CAROL'","name":"orders-app"}')
expect "$r" 200 'len(d["grant_id"]) == 64'
GRANT=$(echo "$r" | id_of grant_id)

r=$(kms alice list-grants '{"key_id":"'$KEY'"}')
expect "$r" 200 'd["total"] == 1 and d["truncated"] == "false" and d["next_marker"] == "" and d["grants"][0]["retiring_principal"] == "'$CAROL'" and d["grants"][0]["name"] == "orders-app"'

r=$(kms bob encrypt-data '{"key_id":"'$KEY'","plain_text":"payroll"}')
expect "$r" 200 'd["key_id"] == "'$KEY'"'
CIPHER=$(echo "$r" | id_of cipher_text)
r=$(kms bob decrypt-data '{"cipher_text":"'$CIPHER'"}')
expect "$r" 200 'd["plain_text"] == "payroll" and d["plain_text_base64"] == "cGF5cm9sbA=="'

r=$(kms carol retire-grant '{"key_id":"'$KEY'","grant_id":"'$GRANT'"}')
expect "$r" 200 'd == {}'
r=$(kms bob encrypt-data '{"key_id":"'$KEY'","plain_text":"payroll"}')
expect "$r" 403 'd["error"]["error_code"] == "KMS.0306"'
r=$(kms dave list-grants '{"key_id":"'$KEY'"}')
expect "$r" 200 'd["total"] == 0 and d["grants"] == []'

GRANT2=$(kms alice create-grant '{"key_id":"'$KEY'","grantee_principal":"'$BOB'","operations":["encrypt-data"]}' | id_of grant_id)
r=$(kms bob revoke-grant '{"key_id":"'$KEY'","grant_id":"'$GRANT2'"}')
expect "$r" 403 'd["error"]["error_code"] == "KMS.0306"'
r=$(kms alice revoke-grant '{"key_id":"'$KEY'","grant_id":"'$GRANT2'"}')
expect "$r" 200 'd == {}'
r=$(kms alice revoke-grant '{"key_id":"'$KEY'","grant_id":"'$GRANT2'"}')
expect "$r" 400 'd["error"]["error_code"] == "KMS.2501"'
echo "walk-through passed against $BASE"
