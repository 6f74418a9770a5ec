#!/usr/bin/env bash
# The README's curl walk-through, run against a started server, checking each answer.
# Usage: scripts/walkthrough.sh [BASE_URL]   (default http://127.0.0.1:8080; demo identities)
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
PROJECT=0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c
KMS=$BASE/v1.0/$PROJECT/kms
BOB=b0b00000000000000000000000000002
CAROL=ca401000000000000000000000000003

call() { # call TOKEN ACTION BODY -> prints "STATUS BODY"
  curl -s -o /tmp/walkthrough.$$ -w '%{http_code}' -X POST "$KMS/$2" \
    -H "X-Auth-Token: $1" -H 'Content-Type: application/json' -d "$3"
  printf ' %s\n' "$(cat /tmp/walkthrough.$$)"
  rm -f /tmp/walkthrough.$$
}

field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval("d"+sys.argv[2]))' "$1" "$2"; }

expect() { # expect "STATUS BODY" STATUS [python-expr-on-d]
  local status=${1%% *} body=${1#* }
  if [ "$status" != "$2" ]; then echo "FAIL: expected $2, got $1" >&2; exit 1; fi
  if [ -n "${3:-}" ]; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert eval(sys.argv[2]), sys.argv[1]' "$body" "$3" \
      || { echo "FAIL: $3 on $body" >&2; exit 1; }
  fi
  echo "ok   $2 $body"
}

alias_name="walkthrough-$(date +%s%N)"
r=$(call demo-token-alice create-key "{\"key_alias\":\"$alias_name\"}")
expect "$r" 200 'len(d["key_info"]["key_id"]) == 36'
KEY=$(field "${r#* }" '["key_info"]["key_id"]')

r=$(call demo-token-alice create-grant "{\"key_id\":\"$KEY\",\"grantee_principal\":\"$BOB\",\"operations\":[\"describe-key\",\"encrypt-data\",\"decrypt-data\"],\"retiring_principal\":\"$CAROL\",\"name\":\"orders-app\"}")
expect "$r" 200 'len(d["grant_id"]) == 64'
GRANT1=$(field "${r#* }" '["grant_id"]')

r=$(call demo-token-alice list-grants "{\"key_id\":\"$KEY\"}")
expect "$r" 200 'd["total"] == 1 and d["truncated"] == "false" and d["next_marker"] == "" and d["grants"][0]["retiring_principal"] == "'$CAROL'"'

r=$(call demo-token-carol list-retirable-grants '{}')
expect "$r" 200 'any(g["grant_id"] == "'$GRANT1'" for g in d["grants"])'

r=$(call demo-token-carol retire-grant "{\"key_id\":\"$KEY\",\"grant_id\":\"$GRANT1\"}")
expect "$r" 200 'd == {}'

r=$(call demo-token-alice create-grant "{\"key_id\":\"$KEY\",\"grantee_principal\":\"$BOB\",\"operations\":[\"encrypt-data\"]}")
expect "$r" 200
GRANT2=$(field "${r#* }" '["grant_id"]')

r=$(call demo-token-bob revoke-grant "{\"key_id\":\"$KEY\",\"grant_id\":\"$GRANT2\"}")
expect "$r" 403 'd["error"]["error_code"] == "KMS.0306"'

r=$(call demo-token-alice revoke-grant "{\"key_id\":\"$KEY\",\"grant_id\":\"$GRANT2\"}")
expect "$r" 200 'd == {}'

r=$(call demo-token-alice revoke-grant "{\"key_id\":\"$KEY\",\"grant_id\":\"$GRANT2\"}")
expect "$r" 400 'd["error"]["error_code"] == "KMS.2501"'

r=$(call demo-token-alice list-grants "{\"key_id\":\"$KEY\"}")
expect "$r" 200 'd["total"] == 0 and d["grants"] == []'
echo "walk-through passed against $BASE"
