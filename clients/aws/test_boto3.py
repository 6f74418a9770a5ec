"""The AWS dialect through boto3 (pinned in requirements.txt), against a started server.

Roles (demo identities): alice and bob are principals of account 111122223333, which
owns the keys; erin and frank are principals of account 444455556666, the usual grantee
and retiring principal. Every test makes its own key, so tests are independent.
"""

import os

import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, BOB, ERIN, FRANK, REGION, URL, client


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def grant_to_erin(alice, key, operations, **extra):
    return alice.create_grant(KeyId=key["KeyId"], GranteePrincipal=ERIN[2], Operations=operations, **extra)


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
    with pytest.raises(alice.exceptions.NotFoundException):
        erin.encrypt(KeyId=arn, Plaintext=b"secret")
    grant = grant_to_erin(alice, key, ["Encrypt", "GenerateDataKey"])
    blob = erin.encrypt(KeyId=arn, Plaintext=b"secret", GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    data_key = erin.generate_data_key(KeyId=arn, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32
    with pytest.raises(ClientError) as e:
        erin.decrypt(CiphertextBlob=blob)
    assert error_code(e) == "AccessDeniedException" and status(e) == 400
    with pytest.raises(ClientError) as e:
        erin.generate_data_key_without_plaintext(KeyId=arn, KeySpec="AES_256")
    assert error_code(e) == "AccessDeniedException"
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


def test_revoke_takes_effect_at_once_and_only_the_account_may_revoke(alice, bob, erin, key):
    grant = grant_to_erin(alice, key, ["Encrypt", "RetireGrant"])
    erin.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError) as e:
        erin.revoke_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    assert error_code(e) == "AccessDeniedException"
    with pytest.raises(alice.exceptions.DryRunOperationException):
        bob.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"], DryRun=True)
    erin.encrypt(KeyId=key["Arn"], Plaintext=b"x")  # the dry run changed nothing
    response = bob.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(alice.exceptions.NotFoundException):
        erin.encrypt(KeyId=key["Arn"], Plaintext=b"x")
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
    with pytest.raises(ClientError) as e:
        alice.list_retirable_grants(RetiringPrincipal=FRANK[2])
    assert error_code(e) == "AccessDeniedException"


def test_create_grant_dry_run_changes_nothing(alice, key):
    with pytest.raises(alice.exceptions.DryRunOperationException) as e:
        grant_to_erin(alice, key, ["Encrypt"], DryRun=True)
    assert status(e) == 400
    assert alice.list_grants(KeyId=key["KeyId"])["Grants"] == []
    with pytest.raises(alice.exceptions.DryRunOperationException):
        alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    # A dry run still reports what would fail.
    with pytest.raises(ClientError) as e:
        client(ERIN).encrypt(KeyId=key["Arn"], Plaintext=b"x", DryRun=True)
    assert error_code(e) == "NotFoundException"


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
