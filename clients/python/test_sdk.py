"""The real Huawei Cloud Python SDK (huaweicloudsdkkms) and a plain HTTP client with an
IAM token, against a running emulator named by KMS_EMULATOR_URL.

Uses the built-in demo identities (see src/auth/identities.rs): alice creates keys,
bob is the grantee, carol the retiring principal, dave another user of the project.
"""

import os
import re
import uuid

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkkms.v2 import (
    CancelGrantRequest,
    CancelSelfGrantRequest,
    CreateGrantRequest,
    CreateGrantRequestBody,
    CreateKeyRequest,
    CreateKeyRequestBody,
    KmsClient,
    ListGrantsRequest,
    ListGrantsRequestBody,
    ListKeyDetailRequest,
    ListRetirableGrantsRequest,
    ListRetirableGrantsRequestBody,
    OperateKeyRequestBody,
    RevokeGrantRequestBody,
)

URL = os.environ.get("KMS_EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
DOMAIN_NAME = "demo-account"

USERS = {
    "alice": ("a11ce000000000000000000000000001", "DEMOALICEACCESSKEY01", "demo-alice-secret-key-0000000000000001"),
    "bob": ("b0b00000000000000000000000000002", "DEMOBOBACCESSKEY0002", "demo-bob-secret-key-00000000000000002"),
    "carol": ("ca401000000000000000000000000003", "DEMOCAROLACCESSKEY03", "demo-carol-secret-key-000000000000003"),
}
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def user_id(name):
    return USERS[name][0]


def kms(name, sk=None):
    _, ak, secret = USERS[name]
    credentials = BasicCredentials(ak, sk or secret, PROJECT)
    return KmsClient.new_builder().with_credentials(credentials).with_endpoints([URL]).build()


def create_key(client):
    body = CreateKeyRequestBody(key_alias="sdk-" + uuid.uuid4().hex[:16])
    return client.create_key(CreateKeyRequest(body=body)).key_info.key_id


def create_grant(client, key_id, grantee, operations, retiring=None):
    body = CreateGrantRequestBody(
        key_id=key_id,
        grantee_principal=user_id(grantee),
        operations=operations,
        retiring_principal=user_id(retiring) if retiring else None,
        name="sdk-grant",
    )
    return client.create_grant(CreateGrantRequest(body=body)).grant_id


def revoke(client, key_id, grant_id):
    return client.cancel_grant(CancelGrantRequest(body=RevokeGrantRequestBody(key_id=key_id, grant_id=grant_id)))


def retire(client, key_id, grant_id):
    return client.cancel_self_grant(
        CancelSelfGrantRequest(body=RevokeGrantRequestBody(key_id=key_id, grant_id=grant_id))
    )


def list_grants(client, key_id, limit=None, marker=None):
    body = ListGrantsRequestBody(key_id=key_id, limit=limit, marker=marker)
    return client.list_grants(ListGrantsRequest(body=body))


def all_grant_ids(client, key_id):
    return [g.grant_id for g in list_grants(client, key_id).grants]


def expect_error(call, status, code):
    with pytest.raises(ClientRequestException) as caught:
        call()
    error = caught.value
    assert error.status_code == status, (error.status_code, error.error_code, error.error_msg)
    assert error.error_code == code, (error.error_code, error.error_msg)
    assert REQUEST_ID.match(error.request_id or ""), error.request_id
    assert len(error.error_msg) > 10
    return error


def test_create_key_and_grant_as_the_key_creator():
    alice = kms("alice")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key", "encrypt-data"], retiring="carol")
    assert re.match(r"^[0-9a-f]{64}$", grant_id)
    grants = list_grants(alice, key_id)
    assert grants.total == 1
    assert grants.truncated == "false"
    assert grants.next_marker == ""
    grant = grants.grants[0]
    assert grant.issuing_principal == user_id("alice")
    assert grant.grantee_principal == user_id("bob")
    assert grant.retiring_principal == user_id("carol")
    assert grant.operations == ["describe-key", "encrypt-data"]


def test_list_grants_pages_with_limit_and_marker():
    alice = kms("alice")
    key_id = create_key(alice)
    created = [create_grant(alice, key_id, "bob", ["describe-key"]) for _ in range(5)]
    seen, marker, pages = [], None, 0
    while True:
        page = list_grants(alice, key_id, limit=2, marker=marker)
        pages += 1
        assert page.total == 5
        seen += [g.grant_id for g in page.grants]
        if page.truncated == "false":
            assert page.next_marker == ""
            break
        assert page.truncated == "true"
        marker = page.next_marker
    assert pages == 3
    assert seen == created


def test_list_retirable_grants_shows_the_retiring_principal_its_grants():
    alice, carol = kms("alice"), kms("carol")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key"], retiring="carol")
    ids, marker = [], None
    while True:
        body = ListRetirableGrantsRequestBody(limit=100, marker=marker)
        page = carol.list_retirable_grants(ListRetirableGrantsRequest(body=body))
        ids += [g.grant_id for g in page.grants]
        if page.truncated == "false":
            break
        marker = page.next_marker
    assert grant_id in ids
    bob_page = kms("bob").list_retirable_grants(ListRetirableGrantsRequest(body=ListRetirableGrantsRequestBody()))
    assert grant_id not in [g.grant_id for g in bob_page.grants]


def test_revoke_is_for_the_key_creator_only():
    alice = kms("alice")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key", "retire-grant"], retiring="carol")
    for name in ("bob", "carol"):
        expect_error(lambda: revoke(kms(name), key_id, grant_id), 403, "KMS.0306")
    revoke(alice, key_id, grant_id)
    assert all_grant_ids(alice, key_id) == []
    expect_error(lambda: revoke(alice, key_id, grant_id), 400, "KMS.2501")


@pytest.mark.parametrize("retirer", ["carol", "alice", "bob"])
def test_retire_by_each_authorized_party(retirer):
    # carol is the retiring principal, alice the issuer, bob the grantee holding retire-grant.
    alice = kms("alice")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key", "retire-grant"], retiring="carol")
    retire(kms(retirer), key_id, grant_id)
    assert grant_id not in all_grant_ids(alice, key_id)
    expect_error(lambda: retire(kms(retirer), key_id, grant_id), 400, "KMS.2501")


def test_a_grantee_without_retire_grant_may_not_retire():
    alice = kms("alice")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key"])
    expect_error(lambda: retire(kms("bob"), key_id, grant_id), 403, "KMS.0306")
    assert grant_id in all_grant_ids(alice, key_id)


def test_error_paths_carry_code_status_and_request_id():
    alice = kms("alice")
    missing = str(uuid.uuid4())
    expect_error(
        lambda: alice.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=missing))),
        404,
        "KMS.0207",
    )
    expect_error(lambda: list_grants(alice, "not-a-key"), 400, "KMS.0205")
    key_id = create_key(alice)
    expect_error(lambda: create_grant(alice, key_id, "bob", ["fly"]), 400, "KMS.0308")
    # A wrong secret key: the gateway's flat 401.
    error = expect_error(lambda: create_key(kms("alice", sk="not-the-secret")), 401, "APIGW.0301")
    assert error.error_msg.startswith("Incorrect IAM authentication information")


def test_the_sdk_discovers_the_project_through_iam(monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", URL)
    _, ak, sk = USERS["alice"]
    client = (
        KmsClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk))
        .with_region(Region("eu-de", URL))
        .build()
    )
    assert create_key(client)


# The same story with an IAM token and a plain HTTP client.


def iam_token(name, password=None, scope=None):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": name, "password": password or name + "-password", "domain": {"name": DOMAIN_NAME}}
                },
            },
            "scope": scope or {"project": {"id": PROJECT}},
        }
    }
    return requests.post(URL + "/v3/auth/tokens", json=body, timeout=10)


def token_of(name):
    response = iam_token(name)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def call(token, action, body):
    return requests.post(
        "%s/v1.0/%s/kms/%s" % (URL, PROJECT, action),
        json=body,
        headers={"X-Auth-Token": token, "Content-Type": "application/json;charset=utf8"},
        timeout=10,
    )


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def kms_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["error_code"] == code, response.text
    assert REQUEST_ID.match(response.headers["X-Request-Id"])


def test_iam_token_body_and_catalog():
    response = iam_token("alice", scope={"project": {"name": "eu-de"}})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token["user"]["name"] == "alice"
    assert token["project"]["id"] == PROJECT
    kms_entry = [c for c in token["catalog"] if c["type"] == "kms"][0]
    assert kms_entry["endpoints"][0]["url"] == "%s/v1.0/%s" % (URL, PROJECT)
    assert "catalog" not in requests.post(
        URL + "/v3/auth/tokens?nocatalog=true", json={"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "alice", "password": "alice-password", "domain": {"name": DOMAIN_NAME}}}}}},
        timeout=10).json()["token"]


def test_iam_token_grant_story():
    alice, bob, carol = token_of("alice"), token_of("bob"), token_of("carol")
    key_id = ok(call(alice, "create-key", {"key_alias": "iam-" + uuid.uuid4().hex[:16]}))["key_info"]["key_id"]
    grants = []
    for _ in range(3):
        body = {"key_id": key_id, "grantee_principal": user_id("bob"), "operations": ["describe-key", "retire-grant"],
                "retiring_principal": user_id("carol")}
        grants.append(ok(call(alice, "create-grant", body))["grant_id"])
    first = ok(call(alice, "list-grants", {"key_id": key_id, "limit": 2}))
    assert first["truncated"] == "true" and first["total"] == 3
    second = ok(call(alice, "list-grants", {"key_id": key_id, "limit": 2, "marker": first["next_marker"]}))
    assert second["truncated"] == "false" and second["next_marker"] == ""
    assert [g["grant_id"] for g in first["grants"] + second["grants"]] == grants
    retirable = ok(call(carol, "list-retirable-grants", {"limit": 1000}))
    assert set(grants) <= {g["grant_id"] for g in retirable["grants"]}
    kms_error(call(bob, "revoke-grant", {"key_id": key_id, "grant_id": grants[0]}), 403, "KMS.0306")
    ok(call(alice, "revoke-grant", {"key_id": key_id, "grant_id": grants[0]}))
    ok(call(carol, "retire-grant", {"key_id": key_id, "grant_id": grants[1]}))
    ok(call(bob, "retire-grant", {"key_id": key_id, "grant_id": grants[2]}))
    kms_error(call(alice, "revoke-grant", {"key_id": key_id, "grant_id": grants[2]}), 400, "KMS.2501")
    assert ok(call(alice, "list-grants", {"key_id": key_id}))["total"] == 0


def test_iam_token_errors():
    wrong = iam_token("alice", password="wrong")
    unknown = iam_token("mallory", password="alice-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "X-Subject-Token" not in wrong.headers
    kms_error(call("MIIkms-not-a-token", "list-keys", {}), 403, "KMS.0302")
    kms_error(call("", "list-keys", {}), 403, "KMS.0301")
