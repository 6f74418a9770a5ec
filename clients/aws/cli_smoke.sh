#!/usr/bin/env bash
# The aws CLI (v1, pinned in requirements.txt) against a started emulator:
# create-key, create-grant, list-grants, retire-grant, revoke-grant, the key policy
# operations, generate-random, and AccessDeniedException for users without permission.
#   KMS_EMULATOR_URL=http://127.0.0.1:8080 AWS=path/to/aws bash cli_smoke.sh
set -euo pipefail
url="${KMS_EMULATOR_URL:?set KMS_EMULATOR_URL}"
aws_bin="${AWS:-aws}"
export AWS_DEFAULT_REGION=eu-de AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
as() { # as USER aws-args...: alice administers KMS in 111122223333 (she owns the keys),
        # bob holds no KMS permission there; frank is read-only in 444455556666
  local who=$1; shift
  case "$who" in
    alice) AWS_ACCESS_KEY_ID=DEMOALICEACCESSKEY01 AWS_SECRET_ACCESS_KEY=demo-alice-secret-key-0000000000000001 \
             "$aws_bin" --endpoint-url "$url" --output text "$@" ;;
    bob)   AWS_ACCESS_KEY_ID=DEMOBOBACCESSKEY0002 AWS_SECRET_ACCESS_KEY=demo-bob-secret-key-00000000000000002 \
             "$aws_bin" --endpoint-url "$url" --output text "$@" ;;
    frank) AWS_ACCESS_KEY_ID=DEMOFRANKACCESSKEY06 AWS_SECRET_ACCESS_KEY=demo-frank-secret-key-00000000000000006 \
             "$aws_bin" --endpoint-url "$url" --output text "$@" ;;
  esac
}
fail() { echo "cli_smoke: $*" >&2; exit 1; }
# refused USER EXPECTED-TEXT aws-args...: the command fails, and its error output says EXPECTED-TEXT.
refused() {
  local who=$1 expected=$2 out; shift 2
  if out=$(as "$who" "$@" 2>&1); then fail "$who: '$*' succeeded"; fi
  [[ "$out" == *"$expected"* ]] || fail "$who: '$*' said: $out"
}

key_id=$(as alice kms create-key --description "cli smoke" --query KeyMetadata.KeyId)
[[ "$key_id" =~ ^[0-9a-f-]{36}$ ]] || fail "create-key gave '$key_id'"
grantee=arn:aws:iam::444455556666:user/erin
retiree=arn:aws:iam::444455556666:user/frank

grant1=$(as alice kms create-grant --key-id "$key_id" --grantee-principal "$grantee" \
  --operations Encrypt Decrypt --retiring-principal "$retiree" --query GrantId)
grant2=$(as alice kms create-grant --key-id "$key_id" --grantee-principal "$grantee" \
  --operations GenerateDataKey --query GrantId)
[[ "$grant1" =~ ^[0-9a-f]{64}$ && "$grant2" =~ ^[0-9a-f]{64}$ ]] || fail "create-grant gave '$grant1' '$grant2'"

listed=$(as alice kms list-grants --key-id "$key_id" --query 'Grants[].GrantId')
for g in "$grant1" "$grant2"; do [[ "$listed" == *"$g"* ]] || fail "list-grants lacks $g: $listed"; done
ops=$(as alice kms list-grants --key-id "$key_id" --grant-id "$grant1" --query 'Grants[0].Operations')
[[ "$ops" == *Encrypt*Decrypt* ]] || fail "list-grants shows operations '$ops'"

# The retiring principal retires by key ARN and grant ID (another account: the ARN is needed).
key_arn=$(as alice kms describe-key --key-id "$key_id" --query KeyMetadata.Arn)
as frank kms retire-grant --key-id "$key_arn" --grant-id "$grant1"
as alice kms revoke-grant --key-id "$key_id" --grant-id "$grant2"
left=$(as alice kms list-grants --key-id "$key_id" --query 'length(Grants)')
[ "$left" = 0 ] || fail "$left grants left after retire-grant and revoke-grant"

# An error reaches the CLI as AWS's exception, with a failing exit status.
if out=$(as alice kms revoke-grant --key-id "$key_id" --grant-id "$grant2" 2>&1); then
  fail "revoking a revoked grant succeeded"
fi
[[ "$out" == *NotFoundException* ]] || fail "revoke of a gone grant said: $out"

# bob, with no KMS permission, is refused in AWS's words, on the key and on no key.
refused bob "AccessDeniedException) when calling the Encrypt operation: User: arn:aws:iam::111122223333:user/bob is not authorized to perform: kms:Encrypt on resource: $key_arn because no identity-based policy allows the kms:Encrypt action" \
  kms encrypt --key-id "$key_id" --plaintext aGVsbG8=
refused bob "is not authorized to perform: kms:CreateKey because no identity-based policy allows the kms:CreateKey action" \
  kms create-key

# Key policies: the default one, then one that names bob for DescribeKey.
[ "$(as alice kms list-key-policies --key-id "$key_id" --query PolicyNames)" = default ] || fail "list-key-policies"
default_policy=$(as alice kms get-key-policy --key-id "$key_id" --policy-name default --query Policy)
[[ "$default_policy" == *'"arn:aws:iam::111122223333:root"'* ]] || fail "default policy: $default_policy"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/policy.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "kms:DescribeKey", "Resource": "*"}]}
JSON
as alice kms put-key-policy --key-id "$key_id" --policy-name default --policy "file://$work/policy.json"
[ "$(as alice kms get-key-policy --key-id "$key_id" --policy-name default --query Policy)" = "$(cat "$work/policy.json")" ] \
  || fail "get-key-policy does not return the policy put"
[ "$(as bob kms describe-key --key-id "$key_id" --query KeyMetadata.Arn)" = "$key_arn" ] || fail "bob, named by the key policy, cannot describe the key"
echo '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "kms:*", "Resource": "*"}]}' >"$work/lockout.json"
refused alice "MalformedPolicyDocumentException" kms put-key-policy --key-id "$key_id" --policy-name default --policy "file://$work/lockout.json"

random=$(as alice kms generate-random --number-of-bytes 48 --query Plaintext)
[ "$(printf %s "$random" | base64 -d | wc -c)" = 48 ] || fail "generate-random gave '$random'"
echo "cli_smoke: ok (create-key, create-grant x2, list-grants, retire-grant, revoke-grant, NotFoundException, AccessDeniedException x2, list/get/put-key-policy, lockout check, generate-random)"
