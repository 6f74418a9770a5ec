"""The AWS dialect through boto3 (pinned in requirements.txt), against a started server.

Roles (demo identities, conftest.py): account 111122223333 owns the keys; alice
administers KMS there and creates them, bob and carol hold no KMS permission (they reach
keys through grants and key policies: the seeds' users B and C), dave is read-only.
erin (administrator) and frank (read-only) are principals of account 444455556666, the
usual cross-account grantee and retiring principal. Every test makes its own key, so
tests are independent.
"""

import json
import os

import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, BOB, CAROL, DAVE, ERIN, FRANK, REGION, URL, client

ACCOUNT_ROOT = "arn:aws:iam::111122223333:root"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def grant_to_erin(alice, key, operations, **extra):
    return alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=ERIN[2], Operations=operations, **extra)


def denied(call, who, action, ending):
    """The call is refused with AccessDeniedException (HTTP 400, as AWS sends it), and
    AWS's message: `User: <arn> is not authorized to perform: kms:<action> <ending>`."""
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e) == "AccessDeniedException", e.value.response
    assert status(e) == 400
    expected = f"User: {who[2]} is not authorized to perform: kms:{action} {ending}"
    assert message(e) == expected
    return e


def no_identity_policy(key, action):
    """The ending for a key of the caller's account the IAM policies do not allow."""
    return f"on resource: {key['Arn']} because no identity-based policy allows the kms:{action} action"


def no_resource_policy(key, action):
    return f"on resource: {key['Arn']} because no resource-based policy allows the kms:{action} action"


def explicit_resource_deny(key):
    return f"on resource: {key['Arn']} with an explicit deny in a resource-based policy"


def decrypt_resource(key):
    """The resource a refused Decrypt without KeyId names in its message: as AWS does, the
    ciphertext's key (`on resource: arn:aws:kms:...:key/ID`)."""
    return key


# For a key of another account, whether it exists or not: AWS says neither which.
FOREIGN = ("on this resource because the resource does not exist in this Region, no resource-based policies "
           "allow access, or a resource-based policy explicitly denies access")


def policy_text(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, actions):
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, "Resource": "*"}


# The statement of the default key policy: the account may do everything, so its IAM
# policies decide.
ROOT = allow(ACCOUNT_ROOT, "kms:*")


# ---- keys


def test_create_describe_and_list_keys(alice, key):
    assert key["Arn"] == f"arn:aws:kms:{REGION}:111122223333:key/{key['KeyId']}"
    assert key["KeyState"] == "Enabled" and key["Enabled"] is True
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT" and key["KeyUsage"] == "ENCRYPT_DECRYPT"
    for ident in (key["KeyId"], key["Arn"]):
        assert alice.describe_key(KeyId=ident)["KeyMetadata"]["Arn"] == key["Arn"]
    found = [k for page in alice.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}) for k in page["Keys"]]
    assert {"KeyId": key["KeyId"], "KeyArn": key["Arn"]} in found


def test_key_state_operations(alice, key):
    kid = key["KeyId"]
    alice.disable_key(KeyId=kid)
    alice.disable_key(KeyId=kid)  # AWS: disabling a disabled key succeeds
    assert alice.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(alice.exceptions.DisabledException):
        alice.encrypt(KeyId=kid, Plaintext=b"x")
    alice.enable_key(KeyId=kid)
    scheduled = alice.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    with pytest.raises(alice.exceptions.KMSInvalidStateException):
        alice.encrypt(KeyId=kid, Plaintext=b"x")
    with pytest.raises(alice.exceptions.KMSInvalidStateException):
        alice.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert alice.cancel_key_deletion(KeyId=kid)["KeyId"] == key["Arn"]
    assert alice.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as e:
        alice.schedule_key_deletion(KeyId=kid, PendingWindowInDays=6)
    assert error_code(e) == "ValidationException"


def test_unknown_and_malformed_keys_are_not_found_with_status_400(alice):
    for ident in ("6f2b9e52-0000-4000-8000-000000000000", "fake-key-id", f"arn:aws:kms:us-east-1:111122223333:key/6f2b9e52-0000-4000-8000-000000000000"):
        with pytest.raises(alice.exceptions.NotFoundException) as e:
            alice.describe_key(KeyId=ident)
        assert status(e) == 400


# ---- grants


def test_create_grant_and_list_grants_shape(alice, key):
    grant = grant_to_erin(alice, key, ["Encrypt", "Decrypt"], RetiringPrincipal=FRANK[2], Name="app-grant",
                          Constraints={"EncryptionContextSubset": {"app": "x"}})
    assert len(grant["GrantId"]) == 64 and len(grant["GrantToken"]) > 64
    listed = alice.list_grants(KeyId=key["KeyId"])
    assert listed["Truncated"] is False
    [entry] = listed["Grants"]
    assert entry["KeyId"] == key["Arn"]
    assert entry["GrantId"] == grant["GrantId"]
    assert entry["GranteePrincipal"] == ERIN[2]
    assert entry["RetiringPrincipal"] == FRANK[2]
    assert entry["IssuingAccount"] == "arn:aws:iam::111122223333:root"
    assert entry["Operations"] == ["Encrypt", "Decrypt"]
    assert entry["Name"] == "app-grant"
    assert entry["Constraints"] == {"EncryptionContextSubset": {"app": "x"}}


def test_list_grants_pagination_and_filters(alice, key):
    ids = [grant_to_erin(alice, key, ["Encrypt"])["GrantId"] for _ in range(3)]
    bobs = alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=FRANK[2], Operations=["Decrypt"])["GrantId"]
    pages = list(alice.get_paginator("list_grants").paginate(KeyId=key["KeyId"], PaginationConfig={"PageSize": 2}))
    assert [g["GrantId"] for p in pages for g in p["Grants"]] == ids + [bobs]
    assert pages[0]["Truncated"] is True and "NextMarker" in pages[0]
    by_id = alice.list_grants(KeyId=key["KeyId"], GrantId=ids[1])["Grants"]
    assert [g["GrantId"] for g in by_id] == [ids[1]]
    by_grantee = alice.list_grants(KeyId=key["KeyId"], GranteePrincipal=FRANK[2])["Grants"]
    assert [g["GrantId"] for g in by_grantee] == [bobs]
    with pytest.raises(alice.exceptions.InvalidMarkerException):
        alice.list_grants(KeyId=key["KeyId"], Marker="not-a-marker")
    # botocore checks Limit itself; without that, the server must refuse it too.
    unchecked = client(ALICE, config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}))
    for limit in (0, 101):
        with pytest.raises(ClientError) as e:
            unchecked.list_grants(KeyId=key["KeyId"], Limit=limit)
        assert error_code(e) == "ValidationException"


def test_operations_are_validated_as_aws_does(alice, key):
    for bad in (["DECRYPT"], ["CreateKey"], ["CreateGrant"], ["Sign"]):
        with pytest.raises(ClientError) as e:
            grant_to_erin(alice, key, bad)
        assert error_code(e) == "ValidationException", bad
    with pytest.raises(ClientError) as e:
        grant_to_erin(alice, key, ["Encrypt"], Constraints={"EncryptionContextSubset": {"a": "1"}, "EncryptionContextEquals": {"a": "1"}})
    assert error_code(e) == "ValidationException"
    with pytest.raises(alice.exceptions.InvalidArnException):
        alice.create_grant(KeyId=key["KeyId"], GranteePrincipal="arn:aws:iam::111122223333:user/nobody", Operations=["Encrypt"])
    assert alice.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_name_idempotency(alice, key):
    first = grant_to_erin(alice, key, ["Encrypt", "Decrypt"], Name="retry-me")
    again = grant_to_erin(alice, key, ["Decrypt", "Encrypt"], Name="retry-me")
    assert again["GrantId"] == first["GrantId"]
    assert again["GrantToken"] != first["GrantToken"]
    other_grantee = alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=FRANK[2], Operations=["Encrypt", "Decrypt"], Name="retry-me")
    assert other_grantee["GrantId"] != first["GrantId"]
    assert len(alice.list_grants(KeyId=key["KeyId"])["Grants"]) == 2
    # Both tokens of the first grant work, interchangeably.
    for token in (first["GrantToken"], again["GrantToken"]):
        client(ERIN).encrypt(KeyId=key["Arn"], Plaintext=b"x", GrantTokens=[token])


def test_grants_are_enforced_on_key_use(alice, erin, key):
    arn = key["Arn"]
    # Another account's key without a grant: AccessDenied that does not say whether it exists.
    denied(lambda: erin.encrypt(KeyId=arn, Plaintext=b"secret"), ERIN, "Encrypt", FOREIGN)
    grant = grant_to_erin(alice, key, ["Encrypt", "GenerateDataKey"])
    blob = erin.encrypt(KeyId=arn, Plaintext=b"secret", GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    data_key = erin.generate_data_key(KeyId=arn, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32
    denied(lambda: erin.decrypt(CiphertextBlob=blob), ERIN, "Decrypt", FOREIGN)
    denied(lambda: erin.generate_data_key_without_plaintext(KeyId=arn, KeySpec="AES_256"), ERIN,
           "GenerateDataKeyWithoutPlaintext", FOREIGN)
    # The owner decrypts what the grantee encrypted, and the data key.
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert alice.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    # A bare key ID is resolved in the caller's own account, as in AWS.
    with pytest.raises(alice.exceptions.NotFoundException):
        erin.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")


def test_constraints_are_enforced(alice, erin, key):
    arn = key["Arn"]
    grant_to_erin(alice, key, ["Encrypt", "Decrypt"], Constraints={"EncryptionContextEquals": {"app": "billing"}})
    blob = erin.encrypt(KeyId=arn, Plaintext=b"x", EncryptionContext={"app": "billing"})["CiphertextBlob"]
    assert erin.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "billing"})["Plaintext"] == b"x"
    for context in ({}, {"app": "other"}, {"app": "billing", "extra": "1"}):
        with pytest.raises(ClientError) as e:
            erin.encrypt(KeyId=arn, Plaintext=b"x", EncryptionContext=context)
        assert error_code(e) == "AccessDeniedException", context
    # The context is bound to the ciphertext: the owner needs it too.
    with pytest.raises(alice.exceptions.InvalidCiphertextException):
        alice.decrypt(CiphertextBlob=blob)


def test_revoke_takes_effect_at_once_and_needs_the_permission(alice, bob, dave, erin, key):
    grant = grant_to_erin(alice, key, ["Encrypt", "RetireGrant"])
    erin.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    # The grantee (another account), and users of the key's account whose IAM policies do
    # not allow kms:RevokeGrant (bob: none; dave: read-only).
    denied(lambda: erin.revoke_grant(KeyId=key["Arn"], GrantId=grant["GrantId"]), ERIN, "RevokeGrant", FOREIGN)
    for who in (BOB, DAVE):
        denied(lambda: client(who).revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"]), who, "RevokeGrant",
               no_identity_policy(key, "RevokeGrant"))
    with pytest.raises(alice.exceptions.DryRunOperationException):
        alice.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"], DryRun=True)
    erin.encrypt(KeyId=key["Arn"], Plaintext=b"x")  # the dry run changed nothing
    response = alice.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    denied(lambda: erin.encrypt(KeyId=key["Arn"], Plaintext=b"x"), ERIN, "Encrypt", FOREIGN)
    with pytest.raises(alice.exceptions.NotFoundException):
        alice.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    with pytest.raises(alice.exceptions.InvalidGrantIdException):
        alice.revoke_grant(KeyId=key["KeyId"], GrantId="not-a-grant-id")


def test_retire_roles(alice, erin, frank, key):
    arn = key["Arn"]
    # The grantee may retire only when the grant includes RetireGrant.
    plain = grant_to_erin(alice, key, ["Encrypt"])
    with pytest.raises(ClientError) as e:
        erin.retire_grant(KeyId=arn, GrantId=plain["GrantId"])
    assert error_code(e) == "AccessDeniedException"
    with_retire = grant_to_erin(alice, key, ["Encrypt", "RetireGrant"])
    erin.retire_grant(GrantToken=with_retire["GrantToken"])
    # The retiring principal may, by token or by key and grant ID.
    for how in ("token", "ids"):
        g = grant_to_erin(alice, key, ["Encrypt"], RetiringPrincipal=FRANK[2])
        with pytest.raises(alice.exceptions.DryRunOperationException):
            frank.retire_grant(GrantToken=g["GrantToken"], DryRun=True)
        if how == "token":
            frank.retire_grant(GrantToken=g["GrantToken"])
        else:
            frank.retire_grant(KeyId=arn, GrantId=g["GrantId"])
    # The key's account may retire any grant; afterwards the grant is gone at once.
    alice.retire_grant(KeyId=key["KeyId"], GrantId=plain["GrantId"])
    assert alice.list_grants(KeyId=key["KeyId"])["Grants"] == []
    with pytest.raises(alice.exceptions.NotFoundException):
        alice.retire_grant(KeyId=key["KeyId"], GrantId=plain["GrantId"])
    with pytest.raises(alice.exceptions.InvalidGrantTokenException):
        alice.retire_grant(GrantToken="garbage-token")
    with pytest.raises(ClientError) as e:
        alice.retire_grant(KeyId=key["KeyId"])
    assert error_code(e) == "ValidationException"


def test_list_retirable_grants(alice, frank, key):
    g = grant_to_erin(alice, key, ["Encrypt"], RetiringPrincipal=FRANK[2])
    grant_to_erin(alice, key, ["Decrypt"])
    listed = frank.list_retirable_grants(RetiringPrincipal=FRANK[2])["Grants"]
    assert g["GrantId"] in [x["GrantId"] for x in listed]
    assert all(x["RetiringPrincipal"] == FRANK[2] for x in listed)
    # Only for principals of the caller's own account.
    e = denied(lambda: alice.list_retirable_grants(RetiringPrincipal=FRANK[2]), ALICE, "ListRetirableGrants",
               "because kms:ListRetirableGrants may list only the grants retirable by principals of its own account.")
    assert status(e) == 400


def test_create_grant_dry_run_changes_nothing(alice, key):
    with pytest.raises(alice.exceptions.DryRunOperationException) as e:
        grant_to_erin(alice, key, ["Encrypt"], DryRun=True)
    assert status(e) == 400
    assert alice.list_grants(KeyId=key["KeyId"])["Grants"] == []
    with pytest.raises(alice.exceptions.DryRunOperationException):
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    # A dry run still reports what would fail.
    denied(lambda: client(ERIN).encrypt(KeyId=key["Arn"], Plaintext=b"x", DryRun=True), ERIN, "Encrypt", FOREIGN)
    denied(lambda: client(BOB).encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True), BOB, "Encrypt",
           no_identity_policy(key, "Encrypt"))


def test_grant_token_validation(alice, key):
    with pytest.raises(alice.exceptions.InvalidGrantTokenException):
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=["forged"])


def test_grant_created_by_a_grantee(alice, erin, frank, key):
    grant_to_erin(alice, key, ["Encrypt", "Decrypt", "CreateGrant"])
    erin.create_grant(KeyId=key["Arn"], GranteePrincipal=FRANK[2], Operations=["Encrypt"])
    frank.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError) as e:
        erin.create_grant(KeyId=key["Arn"], GranteePrincipal=FRANK[2], Operations=["GenerateDataKey"])
    assert error_code(e) == "AccessDeniedException"
    # A constrained grant is passed on only with a constraint at least as strict.
    other = alice.create_key()["KeyMetadata"]
    grant_to_erin(alice, other, ["Encrypt", "CreateGrant"], Constraints={"EncryptionContextSubset": {"app": "x"}})
    with pytest.raises(ClientError) as e:
        erin.create_grant(KeyId=other["Arn"], GranteePrincipal=FRANK[2], Operations=["Encrypt"])
    assert error_code(e) == "AccessDeniedException"
    erin.create_grant(KeyId=other["Arn"], GranteePrincipal=FRANK[2], Operations=["Encrypt"],
                      Constraints={"EncryptionContextSubset": {"app": "x", "env": "prod"}})


def test_grant_quota_is_limit_exceeded(alice, key):
    # run.sh starts the server with --aws-max-grants-per-key 5 (AWS's quota is 50,000).
    limit = int(os.environ.get("KMS_AWS_MAX_GRANTS_PER_KEY", "5"))
    grants = [grant_to_erin(alice, key, ["Encrypt"]) for _ in range(limit)]
    with pytest.raises(alice.exceptions.LimitExceededException) as e:
        grant_to_erin(alice, key, ["Encrypt"])
    assert status(e) == 400
    alice.retire_grant(GrantToken=grants[0]["GrantToken"])
    grant_to_erin(alice, key, ["Encrypt"])


def test_disabled_key_refuses_new_grants(alice, key):
    alice.disable_key(KeyId=key["KeyId"])
    with pytest.raises(alice.exceptions.DisabledException):
        grant_to_erin(alice, key, ["Encrypt"])


def test_decrypt_checks_the_named_key(alice, key):
    other = alice.create_key()["KeyMetadata"]
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(alice.exceptions.IncorrectKeyException):
        alice.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"])
    with pytest.raises(alice.exceptions.InvalidCiphertextException):
        alice.decrypt(CiphertextBlob=b"\x00" * 80)


# ---- permissions: identity policies, grants and the seeds' story inside one account


def test_the_seeds_story_inside_one_account(alice, bob, carol, key):
    """User A (alice) creates a key and grants user B (bob) its use, user C (carol) may
    retire; "after the grant is retired, user B cannot use key A". All of one account."""
    kid, arn = key["KeyId"], key["Arn"]
    denied(lambda: bob.encrypt(KeyId=kid, Plaintext=b"payroll"), BOB, "Encrypt", no_identity_policy(key, "Encrypt"))
    # Named by its ARN in his own account: AccessDenied too, never NotFound.
    denied(lambda: bob.describe_key(KeyId=arn), BOB, "DescribeKey", no_identity_policy(key, "DescribeKey"))
    grant = alice.create_grant(KeyId=kid, GranteePrincipal=BOB[2], RetiringPrincipal=CAROL[2],
                               Operations=["Encrypt", "Decrypt", "DescribeKey"])
    sealed = bob.encrypt(KeyId=kid, Plaintext=b"payroll")
    assert sealed["KeyId"] == arn
    opened = bob.decrypt(CiphertextBlob=sealed["CiphertextBlob"])
    assert (opened["KeyId"], opened["Plaintext"]) == (arn, b"payroll")
    assert bob.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"
    # The grant gives what it holds, nothing else.
    denied(lambda: bob.disable_key(KeyId=kid), BOB, "DisableKey", no_identity_policy(key, "DisableKey"))
    denied(lambda: bob.generate_data_key(KeyId=kid, KeySpec="AES_256"), BOB, "GenerateDataKey",
           no_identity_policy(key, "GenerateDataKey"))
    # carol holds no KMS permission; as the retiring principal she retires all the same.
    denied(lambda: carol.encrypt(KeyId=kid, Plaintext=b"x"), CAROL, "Encrypt", no_identity_policy(key, "Encrypt"))
    carol.retire_grant(GrantToken=grant["GrantToken"])
    assert alice.list_grants(KeyId=kid)["Grants"] == []
    denied(lambda: bob.encrypt(KeyId=kid, Plaintext=b"payroll"), BOB, "Encrypt", no_identity_policy(key, "Encrypt"))
    denied(lambda: bob.decrypt(CiphertextBlob=sealed["CiphertextBlob"]), BOB, "Decrypt",
           no_identity_policy(decrypt_resource(key), "Decrypt"))
    # Named with its KeyId, the refusal names the key.
    denied(lambda: bob.decrypt(CiphertextBlob=sealed["CiphertextBlob"], KeyId=kid), BOB, "Decrypt",
           no_identity_policy(key, "Decrypt"))
    denied(lambda: bob.describe_key(KeyId=arn), BOB, "DescribeKey", no_identity_policy(key, "DescribeKey"))
    assert alice.decrypt(CiphertextBlob=sealed["CiphertextBlob"])["Plaintext"] == b"payroll"


def test_retire_by_a_principal_of_the_keys_account_needs_the_permission(alice, bob, dave, key):
    grant = grant_to_erin(alice, key, ["Encrypt"], RetiringPrincipal=FRANK[2])
    for who in (BOB, DAVE):
        denied(lambda: client(who).retire_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"]), who, "RetireGrant",
               f"on resource: {key['Arn']} because only the grant's retiring principal, its grantee when the grant "
               "includes RetireGrant, or a principal of the key's account allowed kms:RetireGrant by an IAM policy "
               f"may retire it (grant {grant['GrantId']}).")
    assert [g["GrantId"] for g in alice.list_grants(KeyId=key["KeyId"])["Grants"]] == [grant["GrantId"]]
    alice.retire_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert alice.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_actions_on_no_key_need_an_identity_policy(alice, bob, carol, dave):
    def no_policy(who, action):
        return f"because no identity-based policy allows the kms:{action} action"

    denied(lambda: bob.create_key(), BOB, "CreateKey", no_policy(BOB, "CreateKey"))
    denied(lambda: bob.list_keys(), BOB, "ListKeys", no_policy(BOB, "ListKeys"))
    denied(lambda: bob.generate_random(NumberOfBytes=32), BOB, "GenerateRandom", no_policy(BOB, "GenerateRandom"))
    denied(lambda: carol.list_retirable_grants(RetiringPrincipal=CAROL[2]), CAROL, "ListRetirableGrants",
           no_policy(CAROL, "ListRetirableGrants"))
    denied(lambda: dave.create_key(), DAVE, "CreateKey", no_policy(DAVE, "CreateKey"))
    denied(lambda: dave.generate_random(NumberOfBytes=32), DAVE, "GenerateRandom", no_policy(DAVE, "GenerateRandom"))
    key = alice.create_key()["KeyMetadata"]
    assert {"KeyId": key["KeyId"], "KeyArn": key["Arn"]} in [
        k for page in dave.get_paginator("list_keys").paginate() for k in page["Keys"]]
    randoms = [alice.generate_random(NumberOfBytes=n)["Plaintext"] for n in (1, 32, 32, 1024)]
    assert [len(r) for r in randoms] == [1, 32, 32, 1024]
    assert randoms[1] != randoms[2]
    unchecked = client(ALICE, config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}))
    for bad in (0, 1025):
        with pytest.raises(ClientError) as e:
            unchecked.generate_random(NumberOfBytes=bad)
        assert error_code(e) == "ValidationException", bad


def test_the_read_only_user_looks_but_never_uses_or_changes(alice, dave, key):
    kid = key["KeyId"]
    grant = alice.create_grant(KeyId=kid, GranteePrincipal=BOB[2], RetiringPrincipal=DAVE[2], Operations=["Encrypt"])
    assert dave.describe_key(KeyId=kid)["KeyMetadata"] == alice.describe_key(KeyId=kid)["KeyMetadata"]
    [listed] = dave.list_grants(KeyId=kid)["Grants"]
    assert (listed["GrantId"], listed["GranteePrincipal"], listed["Operations"]) == (grant["GrantId"], BOB[2], ["Encrypt"])
    assert dave.list_key_policies(KeyId=kid)["PolicyNames"] == ["default"]
    assert json.loads(dave.get_key_policy(KeyId=kid)["Policy"])["Statement"][0]["Principal"] == {"AWS": ACCOUNT_ROOT}
    [retirable] = dave.list_retirable_grants(RetiringPrincipal=DAVE[2])["Grants"]
    assert (retirable["GrantId"], retirable["KeyId"]) == (grant["GrantId"], key["Arn"])
    blob = alice.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    refusals = {
        "Encrypt": lambda: dave.encrypt(KeyId=kid, Plaintext=b"x"),
        "Decrypt": lambda: dave.decrypt(CiphertextBlob=blob),
        "CreateGrant": lambda: dave.create_grant(KeyId=kid, GranteePrincipal=DAVE[2], Operations=["Encrypt"]),
        "DisableKey": lambda: dave.disable_key(KeyId=kid),
        "ScheduleKeyDeletion": lambda: dave.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7),
        "PutKeyPolicy": lambda: dave.put_key_policy(KeyId=kid, PolicyName="default", Policy=policy_text(ROOT)),
    }
    for action, call in refusals.items():
        resource = decrypt_resource(key) if action == "Decrypt" else key
        denied(call, DAVE, action, no_identity_policy(resource, action))
    # Nothing changed; as the grant's retiring principal he may still retire it.
    assert alice.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Enabled"
    dave.retire_grant(KeyId=kid, GrantId=grant["GrantId"])
    assert dave.list_grants(KeyId=kid)["Grants"] == []


def test_another_account_reaches_a_key_through_a_grant(alice, erin, frank, key):
    arn = key["Arn"]
    missing = f"arn:aws:kms:{REGION}:111122223333:key/6f2b9e52-0000-4000-8000-000000000000"
    # Whether the key exists or not, another account is told the same.
    for ident in (arn, missing):
        denied(lambda: erin.describe_key(KeyId=ident), ERIN, "DescribeKey", FOREIGN)
    grant = grant_to_erin(alice, key, ["Encrypt", "Decrypt", "DescribeKey"])
    metadata = erin.describe_key(KeyId=arn)["KeyMetadata"]
    assert (metadata["Arn"], metadata["AWSAccountId"], metadata["KeyState"]) == (arn, "111122223333", "Enabled")
    blob = erin.encrypt(KeyId=arn, Plaintext=b"across")["CiphertextBlob"]
    assert erin.decrypt(CiphertextBlob=blob)["Plaintext"] == b"across"
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"across"
    # Her administrator rights in her own account reach no further than the grant.
    denied(lambda: erin.disable_key(KeyId=arn), ERIN, "DisableKey", FOREIGN)
    denied(lambda: erin.list_grants(KeyId=arn), ERIN, "ListGrants", FOREIGN)
    # frank, of the same account, holds no grant.
    denied(lambda: frank.encrypt(KeyId=arn, Plaintext=b"x"), FRANK, "Encrypt", FOREIGN)
    alice.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    denied(lambda: erin.encrypt(KeyId=arn, Plaintext=b"x"), ERIN, "Encrypt", FOREIGN)
    # A ciphertext of a key she can no longer see reads, by the emulator's choice, as
    # one it cannot open (no oracle; real AWS answers AccessDenied here).
    with pytest.raises(erin.exceptions.InvalidCiphertextException) as e:
        erin.decrypt(CiphertextBlob=blob)
    assert message(e) == ""


# ---- key policies


def test_the_default_key_policy_and_its_names(alice, dave, key):
    got = alice.get_key_policy(KeyId=key["KeyId"], PolicyName="default")
    assert got["PolicyName"] == "default"
    policy = json.loads(got["Policy"])
    assert policy["Version"] == "2012-10-17"
    [statement] = policy["Statement"]
    assert statement == {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT},
                         "Action": "kms:*", "Resource": "*"}
    # PolicyName may be left out (it defaults to "default").
    assert alice.get_key_policy(KeyId=key["Arn"])["Policy"] == got["Policy"]
    listed = dave.list_key_policies(KeyId=key["KeyId"])
    assert (listed["PolicyNames"], listed["Truncated"]) == (["default"], False)
    with pytest.raises(alice.exceptions.NotFoundException):
        alice.get_key_policy(KeyId=key["KeyId"], PolicyName="other")
    denied(lambda: client(BOB).get_key_policy(KeyId=key["KeyId"]), BOB, "GetKeyPolicy",
           no_identity_policy(key, "GetKeyPolicy"))
    denied(lambda: client(ERIN).get_key_policy(KeyId=key["Arn"]), ERIN, "GetKeyPolicy", FOREIGN)


def test_put_key_policy_round_trip_and_refusals(alice, key):
    kid = key["KeyId"]
    text = json.dumps({"Version": "2012-10-17", "Id": "boto3-suite",
                       "Statement": [dict(ROOT, Sid="root"), dict(allow(BOB[2], "kms:DescribeKey"), Sid="bob-looks")]},
                      indent=2)
    alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=text)
    assert alice.get_key_policy(KeyId=kid, PolicyName="default")["Policy"] == text
    # bob, named in the key policy, needs no IAM permission in the key's own account.
    assert client(BOB).describe_key(KeyId=kid)["KeyMetadata"]["KeyId"] == kid
    denied(lambda: client(BOB).encrypt(KeyId=kid, Plaintext=b"x"), BOB, "Encrypt", no_identity_policy(key, "Encrypt"))
    # Malformed documents, and principals that do not exist.
    for bad in ("{not json", json.dumps({"Statement": "none"}), json.dumps([1, 2])):
        with pytest.raises(alice.exceptions.MalformedPolicyDocumentException):
            alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=bad)
    with pytest.raises(alice.exceptions.MalformedPolicyDocumentException) as e:
        alice.put_key_policy(KeyId=kid, PolicyName="default",
                             Policy=policy_text(ROOT, allow("arn:aws:iam::111122223333:user/ghost", "kms:*")))
    assert "invalid principals" in message(e)
    # The lockout check: a policy that would stop alice from putting the next one.
    with pytest.raises(alice.exceptions.MalformedPolicyDocumentException) as e:
        alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=policy_text(allow(BOB[2], "kms:*")))
    assert message(e) == "The new key policy will not allow you to update the key policy in the future."
    # Over 32 KB: LimitExceededException (botocore lets up to 128 KB through).
    huge = json.dumps({"Version": "2012-10-17", "Id": "x" * 33_000, "Statement": [ROOT]})
    with pytest.raises(alice.exceptions.LimitExceededException):
        alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=huge)
    # None of the refused policies took effect.
    assert alice.get_key_policy(KeyId=kid)["Policy"] == text
    # Bypassing the check locks the key's administration out, as AWS warns.
    alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=policy_text(allow(BOB[2], "kms:*")),
                         BypassPolicyLockoutSafetyCheck=True)
    denied(lambda: alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=text), ALICE, "PutKeyPolicy",
           no_resource_policy(key, "PutKeyPolicy"))
    denied(lambda: alice.encrypt(KeyId=kid, Plaintext=b"x"), ALICE, "Encrypt", no_resource_policy(key, "Encrypt"))
    # ... and bob, named alone, now holds every right to the key.
    assert client(BOB).encrypt(KeyId=kid, Plaintext=b"x")["KeyId"] == key["Arn"]


def test_create_key_with_a_policy(alice):
    text = policy_text(ROOT, allow(ERIN[2], "kms:Decrypt"))
    key = alice.create_key(Description="with a policy", Policy=text)["KeyMetadata"]
    assert alice.get_key_policy(KeyId=key["KeyId"])["Policy"] == text
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"for erin")["CiphertextBlob"]
    assert client(ERIN).decrypt(CiphertextBlob=blob)["Plaintext"] == b"for erin"
    denied(lambda: client(ERIN).encrypt(KeyId=key["Arn"], Plaintext=b"x"), ERIN, "Encrypt", FOREIGN)
    keys_before = {k["KeyId"] for page in alice.get_paginator("list_keys").paginate() for k in page["Keys"]}
    with pytest.raises(alice.exceptions.MalformedPolicyDocumentException) as e:
        alice.create_key(Policy=policy_text(allow(BOB[2], "kms:*")))
    assert "will not allow you to update the key policy" in message(e)
    with pytest.raises(alice.exceptions.MalformedPolicyDocumentException):
        alice.create_key(Policy="[]")
    keys_after = {k["KeyId"] for page in alice.get_paginator("list_keys").paginate() for k in page["Keys"]}
    assert keys_after == keys_before, "a refused CreateKey made a key"
    locked = alice.create_key(Policy=policy_text(allow(BOB[2], "kms:*")), BypassPolicyLockoutSafetyCheck=True)
    denied(lambda: alice.describe_key(KeyId=locked["KeyMetadata"]["KeyId"]), ALICE, "DescribeKey",
           no_resource_policy(locked["KeyMetadata"], "DescribeKey"))


def test_a_key_policy_gives_another_accounts_user_encrypt(alice, erin, frank, key):
    arn = key["Arn"]
    denied(lambda: erin.encrypt(KeyId=arn, Plaintext=b"x"), ERIN, "Encrypt", FOREIGN)
    alice.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                         Policy=policy_text(ROOT, allow(ERIN[2], ["kms:Encrypt", "kms:DescribeKey"])))
    # erin's own IAM policy (administrator of her account) and the key policy both allow it.
    blob = erin.encrypt(KeyId=arn, Plaintext=b"policy")["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"policy"
    assert erin.describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn
    denied(lambda: erin.decrypt(CiphertextBlob=blob), ERIN, "Decrypt", FOREIGN)
    # Key administration never crosses accounts, whatever a key policy says.
    denied(lambda: erin.disable_key(KeyId=arn), ERIN, "DisableKey", FOREIGN)
    # frank is of the same account, but the policy names erin, not the account.
    denied(lambda: frank.encrypt(KeyId=arn, Plaintext=b"x"), FRANK, "Encrypt", FOREIGN)
    # A bare key ID names a key in the caller's own account, where there is none.
    with pytest.raises(erin.exceptions.NotFoundException):
        erin.encrypt(KeyId=key["KeyId"], Plaintext=b"x")


def test_an_explicit_deny_in_the_key_policy_wins(alice, bob, key):
    kid = key["KeyId"]
    deny = {"Effect": "Deny", "Principal": {"AWS": [ALICE[2], BOB[2]]},
            "Action": ["kms:ScheduleKeyDeletion", "kms:Decrypt"], "Resource": "*"}
    alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=policy_text(ROOT, deny))
    e = denied(lambda: alice.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7), ALICE, "ScheduleKeyDeletion",
               explicit_resource_deny(key))
    assert status(e) == 400
    assert alice.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Enabled"
    blob = alice.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    denied(lambda: alice.decrypt(CiphertextBlob=blob), ALICE, "Decrypt", explicit_resource_deny(decrypt_resource(key)))
    # A grant does not lift an explicit deny: bob encrypts through it, never decrypts.
    alice.create_grant(KeyId=kid, GranteePrincipal=BOB[2], Operations=["Encrypt", "Decrypt"])
    mine = bob.encrypt(KeyId=kid, Plaintext=b"bob")["CiphertextBlob"]
    denied(lambda: bob.decrypt(CiphertextBlob=mine, KeyId=kid), BOB, "Decrypt", explicit_resource_deny(key))
    # Lifting the deny restores both.
    alice.put_key_policy(KeyId=kid, PolicyName="default", Policy=policy_text(ROOT))
    assert bob.decrypt(CiphertextBlob=mine)["Plaintext"] == b"bob"
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


# ---- signatures


def test_bad_credentials_get_aws_error_types():
    wrong_secret = client((ALICE[0], "not-the-secret", ALICE[2]))
    with pytest.raises(ClientError) as e:
        wrong_secret.list_keys()
    assert error_code(e) == "InvalidSignatureException"
    unknown = client(("AKIAUNKNOWNKEY000000", "whatever", ""))
    with pytest.raises(ClientError) as e:
        unknown.list_keys()
    assert error_code(e) == "UnrecognizedClientException"


def test_stale_signatures_are_refused(monkeypatch):
    import datetime

    import botocore.auth

    sixteen_minutes_ago = lambda: datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)  # noqa: E731
    monkeypatch.setattr(botocore.auth, "get_current_datetime", sixteen_minutes_ago)
    with pytest.raises(ClientError) as e:
        client(ALICE).list_keys()
    assert error_code(e) == "InvalidSignatureException"
    assert "Signature expired" in e.value.response["Error"]["Message"]


def test_unsigned_requests_are_refused():
    import urllib.request

    request = urllib.request.Request(URL + "/", data=b"{}", method="POST",
                                     headers={"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("an unsigned request was served")
    except urllib.error.HTTPError as e:
        assert e.code == 400
        assert b"MissingAuthenticationTokenException" in e.read()


def test_sign_verify_and_public_key_checked_by_cryptography(alice, bob):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    meta = alice.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["KeySpec"] == "RSA_2048" and meta["KeyUsage"] == "SIGN_VERIFY"
    assert "RSASSA_PKCS1_V1_5_SHA_256" in meta["SigningAlgorithms"]
    key_id = meta["KeyId"]
    message = b"artifact sha: 1234"
    signed = alice.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")
    public = serialization.load_der_public_key(alice.get_public_key(KeyId=key_id)["PublicKey"])
    public.verify(signed["Signature"], message, padding.PKCS1v15(), hashes.SHA256())
    assert alice.verify(KeyId=key_id, Message=message, MessageType="RAW", Signature=signed["Signature"],
                        SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["SignatureValid"] is True
    with pytest.raises(alice.exceptions.KMSInvalidSignatureException):
        alice.verify(KeyId=key_id, Message=b"another", MessageType="RAW", Signature=signed["Signature"],
                     SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")
    with pytest.raises(alice.exceptions.InvalidKeyUsageException):
        alice.encrypt(KeyId=key_id, Plaintext=b"x")
    # Bob signs only once a grant allows Sign.
    with pytest.raises(bob.exceptions.ClientError) as refused:
        bob.sign(KeyId=meta["Arn"], Message=message, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    grant = alice.create_grant(KeyId=key_id, GranteePrincipal=BOB[2], Operations=["Sign"])
    bob.sign(KeyId=meta["Arn"], Message=message, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")
    alice.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])


def test_ecdsa_signatures_verify_with_cryptography(alice):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_id = alice.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    message = b"token payload"
    signature = alice.sign(KeyId=key_id, Message=message, SigningAlgorithm="ECDSA_SHA_384")["Signature"]
    public = serialization.load_der_public_key(alice.get_public_key(KeyId=key_id)["PublicKey"])
    public.verify(signature, message, ec.ECDSA(hashes.SHA384()))


def test_rsa_encryption_checked_by_cryptography(alice, bob, dave):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    meta = alice.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert meta["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    key_id = meta["KeyId"]
    public = serialization.load_der_public_key(alice.get_public_key(KeyId=key_id)["PublicKey"])
    for algorithm, digest in [("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())]:
        oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
        # A ciphertext made offline with the exported public key opens in the emulator ...
        offline = public.encrypt(b"offline " + algorithm.encode(), oaep)
        opened = alice.decrypt(KeyId=key_id, CiphertextBlob=offline, EncryptionAlgorithm=algorithm)
        assert opened["Plaintext"] == b"offline " + algorithm.encode()
        assert opened["EncryptionAlgorithm"] == algorithm and opened["KeyId"] == meta["Arn"]
        # ... and the emulator's own ciphertext is one modulus of bare OAEP output.
        sealed = alice.encrypt(KeyId=key_id, Plaintext=b"inside", EncryptionAlgorithm=algorithm)
        assert sealed["EncryptionAlgorithm"] == algorithm and len(sealed["CiphertextBlob"]) == 384
        assert alice.decrypt(KeyId=key_id, CiphertextBlob=sealed["CiphertextBlob"],
                             EncryptionAlgorithm=algorithm)["Plaintext"] == b"inside"
    # The limit of RSA_3072 with SHA-256 is 318 bytes.
    alice.encrypt(KeyId=key_id, Plaintext=b"x" * 318, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ClientError) as too_long:
        alice.encrypt(KeyId=key_id, Plaintext=b"x" * 319, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_code(too_long) == "ValidationException"
    # Decrypt of an asymmetric ciphertext needs the KeyId; the wrong algorithm does not open it.
    with pytest.raises(ClientError) as no_key:
        alice.decrypt(CiphertextBlob=offline, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_code(no_key) == "ValidationException"
    with pytest.raises(alice.exceptions.InvalidCiphertextException):
        alice.decrypt(KeyId=key_id, CiphertextBlob=offline, EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    with pytest.raises(alice.exceptions.InvalidKeyUsageException):
        alice.encrypt(KeyId=key_id, Plaintext=b"x")
    # bob and dave may not; a Decrypt grant lets bob decrypt.
    for who in (bob, dave):
        with pytest.raises(ClientError) as refused:
            who.decrypt(KeyId=meta["Arn"], CiphertextBlob=offline, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        assert error_code(refused) == "AccessDeniedException"
    grant = alice.create_grant(KeyId=key_id, GranteePrincipal=BOB[2], Operations=["Decrypt"])
    assert bob.decrypt(KeyId=meta["Arn"], CiphertextBlob=offline,
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"offline RSAES_OAEP_SHA_256"
    alice.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
                                  "ECC_SECG_P256K1"])
def test_generate_data_key_pair_checked_by_cryptography(alice, key, spec):
    from cryptography.hazmat.primitives import serialization

    context = {"purpose": "pairs"}
    made = alice.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec=spec, EncryptionContext=context)
    assert made["KeyPairSpec"] == spec and made["KeyId"] == key["Arn"]
    private = serialization.load_der_private_key(made["PrivateKeyPlaintext"], password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert private.public_key().public_bytes(*spki) == made["PublicKey"]
    assert serialization.load_der_public_key(made["PublicKey"]).public_bytes(*spki) == made["PublicKey"]
    # Decrypt opens the private key ciphertext to the same PKCS#8, under the same context only.
    opened = alice.decrypt(CiphertextBlob=made["PrivateKeyCiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == made["PrivateKeyPlaintext"]
    with pytest.raises(alice.exceptions.InvalidCiphertextException):
        alice.decrypt(CiphertextBlob=made["PrivateKeyCiphertextBlob"])


def test_generate_data_key_pair_without_plaintext_and_grants(alice, bob, dave, key):
    from cryptography.hazmat.primitives import serialization

    bare = alice.generate_data_key_pair_without_plaintext(KeyId=key["KeyId"], KeyPairSpec="SM2")
    assert "PrivateKeyPlaintext" not in bare
    opened = alice.decrypt(CiphertextBlob=bare["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert len(opened) > 32 and bare["KeyPairSpec"] == "SM2"
    with pytest.raises(ClientError) as bad_spec:
        alice.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="RSA_1024")
    assert error_code(bad_spec) == "ValidationException"
    rsa = alice.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    with pytest.raises(alice.exceptions.InvalidKeyUsageException):
        alice.generate_data_key_pair(KeyId=rsa, KeyPairSpec="ECC_NIST_P256")
    for who in (bob, dave):
        with pytest.raises(ClientError) as refused:
            who.generate_data_key_pair(KeyId=key["Arn"], KeyPairSpec="ECC_NIST_P256")
        assert error_code(refused) == "AccessDeniedException"
    grant = alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=BOB[2],
                               Operations=["GenerateDataKeyPairWithoutPlaintext"])
    made = bob.generate_data_key_pair_without_plaintext(KeyId=key["Arn"], KeyPairSpec="ECC_NIST_P256")
    serialization.load_der_public_key(made["PublicKey"])
    with pytest.raises(ClientError) as not_granted:
        bob.generate_data_key_pair(KeyId=key["Arn"], KeyPairSpec="ECC_NIST_P256")
    assert error_code(not_granted) == "AccessDeniedException"
    alice.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])


def test_derive_shared_secret_checked_by_cryptography(alice, bob):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_id = alice.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    ours = ec.generate_private_key(ec.SECP384R1())
    our_public = ours.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    derived = alice.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=our_public)
    theirs = serialization.load_der_public_key(alice.get_public_key(KeyId=key_id)["PublicKey"])
    assert derived["SharedSecret"] == ours.exchange(ec.ECDH(), theirs)
    assert derived["KeyAgreementAlgorithm"] == "ECDH"
    with pytest.raises(ClientError) as malformed:
        alice.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=b"\x30\x03\x02\x01\x01")
    assert error_code(malformed) == "ValidationException"
    with pytest.raises(ClientError) as refused:
        bob.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=our_public)
    assert error_code(refused) == "AccessDeniedException"


@pytest.mark.parametrize("spec,ciphertext_len,oid_last", [("ML_KEM_512", 768, 1), ("ML_KEM_768", 1088, 2),
                                                          ("ML_KEM_1024", 1568, 3)])
def test_ml_kem_encapsulate_and_decapsulate(alice, erin, spec, ciphertext_len, oid_last):
    """ML-KEM keys through botocore's own shapes: the public key is a SubjectPublicKeyInfo with
    the id-alg-ml-kem OID (cryptography 44 has no ML-KEM, so the DER is checked by hand);
    Decapsulate recovers Encapsulate's secret; an altered ciphertext gives another secret
    (implicit rejection), a wrong length InvalidCiphertextException; grants allow Decapsulate."""
    meta = alice.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]
    assert meta["KeyUsage"] == "ENCAPSULATE_DECAPSULATE"
    assert meta["EncapsulationAlgorithms"] == ["ML_KEM"]
    key_id, arn = meta["KeyId"], meta["Arn"]
    public = alice.get_public_key(KeyId=key_id)
    assert public["EncapsulationAlgorithms"] == ["ML_KEM"] and public["KeySpec"] == spec
    assert bytes([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, oid_last]) in public["PublicKey"]

    sealed = alice.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")
    assert sealed["KeyId"] == arn and sealed["EncapsulationAlgorithm"] == "ML_KEM"
    assert len(sealed["SharedSecretCiphertextBlob"]) == ciphertext_len and len(sealed["SharedSecret"]) == 32
    opened = alice.decapsulate(KeyId=key_id, SharedSecretCiphertextBlob=sealed["SharedSecretCiphertextBlob"],
                               EncapsulationAlgorithm="ML_KEM")
    assert opened["SharedSecret"] == sealed["SharedSecret"] and opened["KeyId"] == arn
    altered = bytes([sealed["SharedSecretCiphertextBlob"][0] ^ 1]) + sealed["SharedSecretCiphertextBlob"][1:]
    other = alice.decapsulate(KeyId=key_id, SharedSecretCiphertextBlob=altered, EncapsulationAlgorithm="ML_KEM")
    assert len(other["SharedSecret"]) == 32 and other["SharedSecret"] != sealed["SharedSecret"]
    with pytest.raises(alice.exceptions.InvalidCiphertextException):
        alice.decapsulate(KeyId=key_id, SharedSecretCiphertextBlob=b"short", EncapsulationAlgorithm="ML_KEM")
    with pytest.raises(alice.exceptions.InvalidKeyUsageException):
        symmetric = alice.create_key()["KeyMetadata"]["KeyId"]
        alice.encapsulate(KeyId=symmetric, EncapsulationAlgorithm="ML_KEM")
    with pytest.raises(ClientError) as wrong_usage:
        alice.create_key(KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")
    assert error_code(wrong_usage) == "ValidationException"
    with pytest.raises(alice.exceptions.DryRunOperationException):
        alice.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM", DryRun=True)

    with pytest.raises(ClientError) as denied_first:
        erin.decapsulate(KeyId=arn, SharedSecretCiphertextBlob=sealed["SharedSecretCiphertextBlob"],
                         EncapsulationAlgorithm="ML_KEM")
    assert error_code(denied_first) == "AccessDeniedException"
    grant_to_erin(alice, meta, ["Decapsulate"])
    theirs = erin.decapsulate(KeyId=arn, SharedSecretCiphertextBlob=sealed["SharedSecretCiphertextBlob"],
                              EncapsulationAlgorithm="ML_KEM")
    assert theirs["SharedSecret"] == sealed["SharedSecret"]
    assert alice.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]["Operation"] == "Decapsulate"

    alice.disable_key(KeyId=key_id)
    with pytest.raises(alice.exceptions.DisabledException):
        alice.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")


def test_hmac_keys(alice):
    meta = alice.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert meta["MacAlgorithms"] == ["HMAC_SHA_256"]
    mac = alice.generate_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert alice.verify_mac(KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=mac)["MacValid"] is True
    with pytest.raises(alice.exceptions.KMSInvalidMacException):
        alice.verify_mac(KeyId=meta["KeyId"], Message=b"n", MacAlgorithm="HMAC_SHA_256", Mac=mac)


def test_imported_key_material_checked_by_cryptography(alice, dave):
    """BYOK: material wrapped with the returned public key (RSAES_OAEP_SHA_256) by the
    cryptography library; an HMAC key whose MACs equal hmac's with the same bytes; delete
    and re-import of the same material; other material refused."""
    import datetime
    import hashlib
    import hmac as std_hmac

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    def wrap(key_id, material):
        params = alice.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                                 WrappingKeySpec="RSA_2048")
        assert params["KeyId"].endswith(key_id)
        ahead = params["ParametersValidTo"] - datetime.datetime.now(datetime.timezone.utc)
        assert datetime.timedelta(hours=23) < ahead <= datetime.timedelta(hours=24, minutes=1)
        public = serialization.load_der_public_key(params["PublicKey"])
        assert public.key_size == 2048
        encrypted = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                          algorithm=hashes.SHA256(), label=None))
        return params["ImportToken"], encrypted

    meta = alice.create_key(Origin="EXTERNAL")["KeyMetadata"]
    key_id = meta["KeyId"]
    assert meta["Origin"] == "EXTERNAL" and meta["KeyState"] == "PendingImport"
    material = os.urandom(32)
    token, encrypted = wrap(key_id, material)
    with pytest.raises(dave.exceptions.ClientError) as refused:
        dave.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted,
                                 ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert error_code(refused) == "AccessDeniedException"
    with pytest.raises(alice.exceptions.ClientError) as invalid:
        alice.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted,
                                  ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
                                  ValidTo=datetime.datetime(2030, 1, 1))
    assert error_code(invalid) == "ValidationException"
    imported = alice.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted,
                                         ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert len(imported["KeyMaterialId"]) == 64
    assert alice.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    blob = alice.encrypt(KeyId=key_id, Plaintext=b"byok")["CiphertextBlob"]
    deleted = alice.delete_imported_key_material(KeyId=key_id)
    assert deleted["KeyMaterialId"] == imported["KeyMaterialId"]
    assert alice.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"
    with pytest.raises(alice.exceptions.KMSInvalidStateException):
        alice.decrypt(CiphertextBlob=blob)
    token, encrypted = wrap(key_id, os.urandom(32))
    with pytest.raises(alice.exceptions.IncorrectKeyMaterialException):
        alice.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted,
                                  ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    token, encrypted = wrap(key_id, material)
    with pytest.raises(alice.exceptions.InvalidImportTokenException):
        alice.import_key_material(KeyId=key_id, ImportToken=os.urandom(200), EncryptedKeyMaterial=encrypted,
                                  ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    valid_to = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    alice.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=encrypted,
                              ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"byok"

    # An imported HMAC key: its MACs are those of the raw bytes.
    mac_meta = alice.create_key(Origin="EXTERNAL", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    raw = os.urandom(32)
    token, encrypted = wrap(mac_meta["KeyId"], raw)
    alice.import_key_material(KeyId=mac_meta["KeyId"], ImportToken=token, EncryptedKeyMaterial=encrypted,
                              ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    mac = alice.generate_mac(KeyId=mac_meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == std_hmac.new(raw, b"m", hashlib.sha256).digest()

    with pytest.raises(alice.exceptions.UnsupportedOperationException):
        alice.get_parameters_for_import(KeyId=alice.create_key()["KeyMetadata"]["KeyId"],
                                        WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")


def test_update_key_description(alice, dave, key):
    alice.update_key_description(KeyId=key["KeyId"], Description="rotated quarterly")
    assert alice.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "rotated quarterly"
    with pytest.raises(dave.exceptions.ClientError) as refused:
        dave.update_key_description(KeyId=key["KeyId"], Description="mine")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


# ---- aliases


def test_aliases(alice, dave, erin, key):
    name = f"alias/boto3-{key['KeyId']}"
    arn = f"arn:aws:kms:{REGION}:111122223333:{name}"
    alice.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    listed = [a for page in alice.get_paginator("list_aliases").paginate(KeyId=key["KeyId"], PaginationConfig={"PageSize": 1})
              for a in page["Aliases"]]
    assert [(a["AliasName"], a["AliasArn"], a["TargetKeyId"]) for a in listed] == [(name, arn, key["KeyId"])]
    assert listed[0]["CreationDate"] and listed[0]["LastUpdatedDate"]
    for ident in (name, arn):
        assert alice.describe_key(KeyId=ident)["KeyMetadata"]["Arn"] == key["Arn"]
        blob = alice.encrypt(KeyId=ident, Plaintext=b"hi")["CiphertextBlob"]
        assert alice.decrypt(CiphertextBlob=blob, KeyId=ident)["Plaintext"] == b"hi"
    for bad, code in ((name, "AlreadyExistsException"), ("alias/aws/boto3", "NotAuthorizedException"),
                      ("boto3", "InvalidAliasNameException")):
        with pytest.raises(ClientError) as e:
            alice.create_alias(AliasName=bad, TargetKeyId=key["KeyId"])
        assert error_code(e) == code, e.value.response
    denied(lambda: dave.create_alias(AliasName=name + "-dave", TargetKeyId=key["KeyId"]), DAVE, "CreateAlias",
           no_identity_policy(key, "CreateAlias"))
    assert name in [a["AliasName"] for page in dave.get_paginator("list_aliases").paginate() for a in page["Aliases"]]
    assert all(a["AliasName"] != name for a in erin.list_aliases()["Aliases"])
    with pytest.raises(ClientError) as e:
        erin.describe_key(KeyId=name)
    assert error_code(e) == "NotFoundException"
    other = alice.create_key()["KeyMetadata"]
    alice.update_alias(AliasName=name, TargetKeyId=other["Arn"])
    assert alice.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other["KeyId"]
    alice.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as e:
        alice.encrypt(KeyId=name, Plaintext=b"hi")
    assert error_code(e) == "NotFoundException" and message(e) == f"Alias {arn} is not found."


def emulator_clock(**body):
    """Moves the emulator's clock (operator API, loopback): rotations fall due on it."""
    import urllib.request
    request = urllib.request.Request(URL + "/_emulator/clock", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def test_key_rotation(alice, dave, key):
    kid = key["KeyId"]
    old = alice.encrypt(KeyId=kid, Plaintext=b"before")["CiphertextBlob"]
    assert alice.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    alice.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    st = alice.get_key_rotation_status(KeyId=kid)
    assert st["KeyRotationEnabled"] is True and st["RotationPeriodInDays"] == 90 and st["KeyId"] == key["Arn"]
    due = st["NextRotationDate"]
    assert alice.rotate_key_on_demand(KeyId=kid)["KeyId"] == kid
    emulator_clock(advance_days=91)
    rotations = [r for page in alice.get_paginator("list_key_rotations").paginate(
        KeyId=kid, PaginationConfig={"PageSize": 1}) for r in page["Rotations"]]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND", "AUTOMATIC"]
    assert rotations[1]["RotationDate"] == due and rotations[0]["KeyId"] == kid
    assert alice.get_key_rotation_status(KeyId=kid)["NextRotationDate"] > due
    new = alice.encrypt(KeyId=kid, Plaintext=b"after")["CiphertextBlob"]
    for blob, text in ((old, b"before"), (new, b"after")):
        assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == text
    assert dave.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is True
    denied(lambda: dave.disable_key_rotation(KeyId=kid), DAVE, "DisableKeyRotation",
           no_identity_policy(key, "DisableKeyRotation"))
    alice.disable_key_rotation(KeyId=kid)
    st = alice.get_key_rotation_status(KeyId=kid)
    assert st["KeyRotationEnabled"] is False and "NextRotationDate" not in st
    hmac = alice.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    with pytest.raises(ClientError) as e:
        alice.enable_key_rotation(KeyId=hmac["KeyId"])
    assert error_code(e) == "UnsupportedOperationException"
    alice.disable_key(KeyId=kid)
    with pytest.raises(ClientError) as e:
        alice.rotate_key_on_demand(KeyId=kid)
    assert error_code(e) == "DisabledException"


def test_re_encrypt(alice, bob, key):
    destination = alice.create_key()["KeyMetadata"]
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"moved", EncryptionContext={"from": "a"})["CiphertextBlob"]
    answer = alice.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                              DestinationKeyId=destination["KeyId"], DestinationEncryptionContext={"to": "b"})
    assert answer["KeyId"] == destination["Arn"] and answer["SourceKeyId"] == key["Arn"]
    opened = alice.decrypt(CiphertextBlob=answer["CiphertextBlob"], EncryptionContext={"to": "b"})
    assert opened["Plaintext"] == b"moved" and opened["KeyId"] == destination["Arn"]
    with pytest.raises(ClientError) as e:
        alice.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination["KeyId"])
    assert error_code(e) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as e:
        alice.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                         DestinationKeyId=destination["KeyId"], DryRun=True)
    assert error_code(e) == "DryRunOperationException"
    denied(lambda: bob.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                                  DestinationKeyId=destination["KeyId"]),
           BOB, "ReEncryptFrom", no_identity_policy(key, "ReEncryptFrom"))
    alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=BOB[2], Operations=["ReEncryptFrom"])
    denied(lambda: bob.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                                  DestinationKeyId=destination["KeyId"]),
           BOB, "ReEncryptTo", no_identity_policy(destination, "ReEncryptTo"))
    alice.create_grant(KeyId=destination["KeyId"], GranteePrincipal=BOB[2], Operations=["ReEncryptTo"])
    assert bob.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"from": "a"},
                          DestinationKeyId=destination["KeyId"])["KeyId"] == destination["Arn"]
# ---- tags


def test_tags(alice, bob, dave, key):
    tagged = alice.create_key(Tags=[{"TagKey": "Project", "TagValue": "alpha"}])["KeyMetadata"]
    assert alice.list_resource_tags(KeyId=tagged["KeyId"])["Tags"] == [{"TagKey": "Project", "TagValue": "alpha"}]
    alice.tag_resource(KeyId=key["Arn"], Tags=[{"TagKey": f"t{i}", "TagValue": str(i)} for i in range(7)])
    alice.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "t0", "TagValue": "again"}])
    tags = [t for page in alice.get_paginator("list_resource_tags").paginate(KeyId=key["KeyId"], PaginationConfig={"PageSize": 3})
            for t in page["Tags"]]
    assert [t["TagKey"] for t in tags] == [f"t{i}" for i in range(7)]
    assert tags[0]["TagValue"] == "again"
    alice.untag_resource(KeyId=key["KeyId"], TagKeys=["t1", "t2", "missing"])
    assert len(alice.list_resource_tags(KeyId=key["KeyId"])["Tags"]) == 5
    for tags, code in (([{"TagKey": "aws:x", "TagValue": ""}], "TagException"),
                       ([{"TagKey": f"n{i}", "TagValue": ""} for i in range(46)], "LimitExceededException")):
        with pytest.raises(ClientError) as e:
            alice.tag_resource(KeyId=key["KeyId"], Tags=tags)
        assert error_code(e) == code, e.value.response
    with pytest.raises(ClientError) as e:
        bob.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "b", "TagValue": ""}])
    assert error_code(e) == "AccessDeniedException"
    assert len(dave.list_resource_tags(KeyId=key["KeyId"])["Tags"]) == 5
    with pytest.raises(ClientError) as e:
        dave.untag_resource(KeyId=key["KeyId"], TagKeys=["t0"])
    assert error_code(e) == "AccessDeniedException"


def test_get_key_last_usage(alice, dave):
    key = alice.create_key()["KeyMetadata"]
    fresh = alice.get_key_last_usage(KeyId=key["KeyId"])
    assert fresh["KeyLastUsage"] == {}
    assert fresh["TrackingStartDate"] == fresh["KeyCreationDate"] == key["CreationDate"]
    encrypted = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"p")
    usage = dave.get_key_last_usage(KeyId=key["Arn"])["KeyLastUsage"]
    assert usage["Operation"] == "Encrypt"
    assert usage["KmsRequestId"] == encrypted["ResponseMetadata"]["RequestId"]
    alice.decrypt(CiphertextBlob=encrypted["CiphertextBlob"])
    assert alice.get_key_last_usage(KeyId=key["KeyId"])["KeyLastUsage"]["Operation"] == "Decrypt"


# Regions: run.sh serves eu-de (the default) and eu-nl (--regions eu-nl). A boto3 client's
# region_name is its SigV4 scope, and a key lives in the region of the client that made it.


def test_keys_and_aliases_belong_to_the_region_of_the_client():
    de, nl = client(ALICE), client(ALICE, region_name="eu-nl")
    de_key = de.create_key(Description="in eu-de")["KeyMetadata"]
    nl_key = nl.create_key(Description="in eu-nl")["KeyMetadata"]
    assert de_key["Arn"].startswith("arn:aws:kms:eu-de:111122223333:key/")
    assert nl_key["Arn"].startswith("arn:aws:kms:eu-nl:111122223333:key/")
    assert nl.describe_key(KeyId=nl_key["KeyId"])["KeyMetadata"]["Arn"] == nl_key["Arn"]
    with pytest.raises(ClientError) as e:
        nl.describe_key(KeyId=de_key["KeyId"])
    assert error_code(e) == "NotFoundException"
    nl_ids = [k["KeyId"] for k in nl.get_paginator("list_keys").paginate().build_full_result()["Keys"]]
    assert nl_key["KeyId"] in nl_ids and de_key["KeyId"] not in nl_ids
    # One alias name, a different key in each region.
    name = f"alias/regional-{de_key['KeyId'][:8]}"
    de.create_alias(AliasName=name, TargetKeyId=de_key["KeyId"])
    nl.create_alias(AliasName=name, TargetKeyId=nl_key["KeyId"])
    assert de.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == de_key["KeyId"]
    assert nl.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == nl_key["KeyId"]
    # A ciphertext of the eu-de key does not decrypt in eu-nl, where its key is not.
    blob = de.encrypt(KeyId=de_key["KeyId"], Plaintext=b"regional")["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        nl.decrypt(CiphertextBlob=blob)
    assert error_code(e) == "InvalidCiphertextException"
    assert de.decrypt(CiphertextBlob=blob)["Plaintext"] == b"regional"


def test_a_region_not_served_is_refused_and_single_region_keys_do_not_replicate():
    east = client(ALICE, region_name="us-east-1")
    with pytest.raises(ClientError) as e:
        east.list_keys()
    assert error_code(e) == "InvalidSignatureException"
    assert "Credential should be scoped to a valid region, not 'us-east-1'" in message(e)
    alice = client(ALICE)
    key = alice.create_key()["KeyMetadata"]
    assert key["MultiRegion"] is False
    with pytest.raises(ClientError) as e:
        alice.replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-nl")
    assert error_code(e) == "UnsupportedOperationException"


def test_a_multi_region_key_replicates_and_its_replica_decrypts():
    de, nl = client(ALICE), client(ALICE, region_name="eu-nl")
    primary = de.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]
    key_id = primary["KeyId"]
    assert key_id.startswith("mrk-") and len(key_id) == 36
    assert primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    replicated = de.replicate_key(
        KeyId=primary["Arn"], ReplicaRegion="eu-nl", Description="replica",
        Tags=[{"TagKey": "side", "TagValue": "nl"}],
    )
    replica = replicated["ReplicaKeyMetadata"]
    assert replica["KeyId"] == key_id
    assert replica["Arn"] == f"arn:aws:kms:eu-nl:111122223333:key/{key_id}"
    assert replicated["ReplicaTags"] == [{"TagKey": "side", "TagValue": "nl"}]
    assert json.loads(replicated["ReplicaPolicy"])["Statement"]
    configuration = nl.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert configuration == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": primary["Arn"], "Region": "eu-de"},
        "ReplicaKeys": [{"Arn": replica["Arn"], "Region": "eu-nl"}],
    }
    # Encrypted in eu-de, decrypted in eu-nl, and the other way round; rotations are shared.
    de.rotate_key_on_demand(KeyId=key_id)
    blob = de.encrypt(KeyId=key_id, Plaintext=b"everywhere")["CiphertextBlob"]
    assert nl.decrypt(CiphertextBlob=blob)["Plaintext"] == b"everywhere"
    blob = nl.encrypt(KeyId=key_id, Plaintext=b"back")["CiphertextBlob"]
    assert de.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == b"back"
    with pytest.raises(ClientError) as e:
        de.replicate_key(KeyId=key_id, ReplicaRegion="eu-nl")
    assert error_code(e) == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        nl.replicate_key(KeyId=key_id, ReplicaRegion="eu-de")
    assert error_code(e) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        de.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert error_code(e) == "KMSInvalidStateException"
    # The primary moves to eu-nl; eu-de's key becomes its replica.
    de.update_primary_region(KeyId=key_id, PrimaryRegion="eu-nl")
    assert nl.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert de.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    with pytest.raises(ClientError) as e:
        de.update_primary_region(KeyId=key_id, PrimaryRegion="eu-nl")
    assert error_code(e) == "UnsupportedOperationException"
