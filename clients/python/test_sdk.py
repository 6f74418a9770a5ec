"""The real Huawei Cloud Python SDK (huaweicloudsdkkms) and a plain HTTP client with an
IAM token, against a running emulator named by KMS_EMULATOR_URL.

Uses the built-in demo identities (see src/auth/identities.rs) and their permissions:
alice is a "KMS Administrator" of the demo account and creates the keys; bob and carol
hold no KMS permission and reach keys only through grants (bob the usual grantee, carol
the usual retiring principal, who may retire without a permission); dave is read-only
("KMS CMKReadOnlyAccess"); erin administers the other account, frank is read-only there.
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
    ActionResources,
    CreateDatakeyCapsuleRequest,
    CreateDatakeyCapsuleRequestBody,
    CreateKeyPolicyRequest,
    CreateKeyPolicyRequestBody,
    DecryptDatakeyCapsuleRequest,
    DecryptDatakeyCapsuleRequestBody,
    DecryptDatakeyCapsuleRequestBodyAttestationDocument,
    DeleteKeyPolicyRequest,
    ListKeyPolicyRequest,
    ShowKeyPolicyRequest,
    UpdateKeyPolicyRequest,
    UpdateKeyPolicyRequestBody,
    AssociateAliasRequest,
    AssociateAliasRequestBody,
    BatchCreateKmsTagsRequest,
    BatchCreateKmsTagsRequestBody,
    CancelGrantRequest,
    CreateAliasRequest,
    CreateAliasRequestBody,
    CreateKmsTagRequest,
    CreateKmsTagRequestBody,
    DeleteAliasRequest,
    DeleteAliasRequestBody,
    DeleteTagRequest,
    ListAliasesRequest,
    ListKmsByTagsRequest,
    ListKmsByTagsRequestBody,
    ListKmsTagsRequest,
    ListSupportRegionsRequest,
    ReplicateKeyRequest,
    ReplicateKeyRequestBody,
    UpdatePrimaryRegionRequest,
    UpdatePrimaryRegionRequestBody,
    ShowKmsTagsRequest,
    Tag,
    TagItem,
    UpdateKeyAliasRequest,
    UpdateKeyAliasRequestBody,
    CancelSelfGrantRequest,
    CreateGrantRequest,
    CreateGrantRequestBody,
    CreateDatakeyRequest,
    CreateDatakeyRequestBody,
    CreateEcDatakeyPairRequest,
    CreateEcDatakeyPairRequestBody,
    CreateRsaDatakeyPairRequest,
    CreateRsaDatakeyPairRequestBody,
    CreateKeyRequest,
    CreateKeyRequestBody,
    CreateParametersForImportRequest,
    DeleteImportedKeyMaterialRequest,
    GetParametersForImportRequestBody,
    ImportKeyMaterialRequest,
    ImportKeyMaterialRequestBody,
    CreateRandomRequest,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DecryptDatakeyRequest,
    DecryptDatakeyRequestBody,
    DeleteKeyRequest,
    DeriveSharedSecretRequest,
    DeriveSharedSecretRequestBody,
    DisableKeyRequest,
    DisableKeyRotationRequest,
    EnableKeyRotationRequest,
    EncryptDataRequest,
    EncryptDataRequestBody,
    EncryptDatakeyRequest,
    EncryptDatakeyRequestBody,
    GenRandomRequestBody,
    GenerateMacRequest,
    GenerateMacRequestBody,
    KmsClient,
    ListGrantsRequest,
    ListGrantsRequestBody,
    ListKeyDetailRequest,
    ListKeysRequest,
    ListKeysRequestBody,
    ListRetirableGrantsRequest,
    ListRetirableGrantsRequestBody,
    OperateKeyRequestBody,
    ReEncryptRequest,
    ReEncryptRequestBody,
    RevokeGrantRequestBody,
    RotateOnDemandRequest,
    RotateOnDemandRequestBody,
    ScheduleKeyDeletionRequestBody,
    ShowKeyRotationStatusRequest,
    ShowPublicKeyRequest,
    ShowUserInstancesRequest,
    ShowUserQuotasRequest,
    ShowVersionsRequest,
    SignRequest,
    SignRequestBody,
    UpdateKeyDescriptionRequest,
    UpdateKeyDescriptionRequestBody,
    UpdateKeyRotationIntervalRequest,
    UpdateKeyRotationIntervalRequestBody,
    ValidateSignatureRequest,
    VerifyMacRequest,
    VerifyMacRequestBody,
    VerifyRequestBody,
)

URL = os.environ.get("KMS_EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
DOMAIN_NAME = "demo-account"
# The other account's project (erin and frank).
OTHER_PROJECT = "7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b"

USERS = {
    "alice": ("a11ce000000000000000000000000001", "DEMOALICEACCESSKEY01", "demo-alice-secret-key-0000000000000001"),
    "bob": ("b0b00000000000000000000000000002", "DEMOBOBACCESSKEY0002", "demo-bob-secret-key-00000000000000002"),
    "carol": ("ca401000000000000000000000000003", "DEMOCAROLACCESSKEY03", "demo-carol-secret-key-000000000000003"),
    "dave": ("da7e0000000000000000000000000004", "DEMODAVEACCESSKEY004", "demo-dave-secret-key-000000000000004"),
    "erin": ("e4140000000000000000000000000005", "DEMOERINACCESSKEY005", "demo-erin-secret-key-000000000000005"),
    "frank": ("f4a4c000000000000000000000000006", "DEMOFRANKACCESSKEY06", "demo-frank-secret-key-00000000000000006"),
}
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def user_id(name):
    return USERS[name][0]


def project_of(name):
    return OTHER_PROJECT if name in ("erin", "frank") else PROJECT


def kms(name, sk=None):
    _, ak, secret = USERS[name]
    credentials = BasicCredentials(ak, sk or secret, project_of(name))
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


def encrypt(client, key_id, plain_text):
    body = EncryptDataRequestBody(key_id=key_id, plain_text=plain_text)
    return client.encrypt_data(EncryptDataRequest(body=body))


def decrypt(client, cipher_text):
    return client.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=cipher_text)))


def describe(client, key_id):
    return client.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id))).key_info


def list_keys(client):
    return client.list_keys(ListKeysRequest(body=ListKeysRequestBody(limit=1000)))


def retirable(client):
    """Every grant the caller may retire, over all pages."""
    ids, marker = [], None
    while True:
        body = ListRetirableGrantsRequestBody(limit=100, marker=marker)
        page = client.list_retirable_grants(ListRetirableGrantsRequest(body=body))
        ids += [g.grant_id for g in page.grants]
        if page.truncated == "false":
            return ids
        marker = page.next_marker


def expect_error(call, status, code, says=()):
    """The call fails with `status` and `code`, and its message contains every text in `says`."""
    with pytest.raises(ClientRequestException) as caught:
        call()
    error = caught.value
    assert error.status_code == status, (error.status_code, error.error_code, error.error_msg)
    assert error.error_code == code, (error.error_code, error.error_msg)
    assert REQUEST_ID.match(error.request_id or ""), error.request_id
    assert len(error.error_msg) > 10
    for text in says:
        assert text in error.error_msg, (text, error.error_msg)
    return error


def no_permission_on_key(call, action, key_id):
    """403 KMS.0306: the caller sees the key, but no policy or grant allows the action."""
    return expect_error(call, 403, "KMS.0306", ("No access permissions", action, key_id))


def no_permission_for_action(call, action):
    """403 KMS.0307: an action on no key (create-key, list-keys, ...) the caller may not do."""
    return expect_error(call, 403, "KMS.0307", ("No access permissions", "no identity policy of yours allows " + action))


def key_not_visible(call, key_id):
    """404 KMS.0207: a key the caller cannot see at all, answered as a missing key."""
    return expect_error(call, 404, "KMS.0207", ("no key %s is visible to you" % key_id,))


def test_show_versions_lists_kms_v1_first():
    """ShowVersions (`GET /`): KMS's v1.0 first; the identity v3.0 entry keystoneauth needs
    (this host is also IAM) follows and still reads as a version object."""
    versions = kms("alice").show_versions(ShowVersionsRequest()).versions
    assert [v.id for v in versions] == ["v1.0", "v3.0"]
    assert versions[0].status == "CURRENT"
    assert versions[0].links[0].href == "/v1.0/"
    assert versions[1].links[0].href == URL + "/v3/"


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
    # dave is read-only: listing the grants he may retire is one of his permissions.
    alice, dave = kms("alice"), kms("dave")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key"], retiring="dave")
    other = create_grant(alice, key_id, "bob", ["describe-key"], retiring="carol")
    ids = retirable(dave)
    assert grant_id in ids and other not in ids
    body = ListRetirableGrantsRequestBody(limit=100)
    page = dave.list_retirable_grants(ListRetirableGrantsRequest(body=body))
    [mine] = [g for g in page.grants if g.grant_id == grant_id]
    assert (mine.key_id, mine.grantee_principal, mine.retiring_principal) == (key_id, user_id("bob"), user_id("dave"))
    assert mine.issuing_principal == user_id("alice")
    # The administrator retires none of them, so none is listed for her.
    assert grant_id not in retirable(alice)
    # carol, the retiring principal of the other grant, holds no KMS permission: she may
    # retire it, but listing is an action on no key that needs one (KMS.0307).
    for name in ("carol", "bob"):
        no_permission_for_action(lambda: retirable(kms(name)), "kms:ListRetirableGrants")
    retire(kms("carol"), key_id, other)
    # A retiring principal needs no permission to retire either: read-only dave retires his.
    retire(dave, key_id, grant_id)
    assert all_grant_ids(alice, key_id) == []


def test_revoke_is_for_the_key_creator_only():
    alice = kms("alice")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key", "retire-grant"], retiring="carol")
    # The grantee and the retiring principal (no KMS permission), and read-only dave.
    for name in ("bob", "carol", "dave"):
        no_permission_on_key(lambda: revoke(kms(name), key_id, grant_id), "kms:RevokeGrant", key_id)
    assert all_grant_ids(alice, key_id) == [grant_id]
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
    error = expect_error(lambda: retire(kms("bob"), key_id, grant_id), 403, "KMS.0306")
    assert "does not include the retire-grant operation" in error.error_msg, error.error_msg
    # Nor may anyone who is not a party to the grant, read-only dave included.
    error = expect_error(lambda: retire(kms("dave"), key_id, grant_id), 403, "KMS.0306")
    assert "only the grant's issuer, its retiring principal" in error.error_msg, error.error_msg
    assert grant_id in all_grant_ids(alice, key_id)


# ---- Permissions: the seeds' story inside one account, and the refusals


def test_the_seeds_story_inside_one_account():
    """User A (alice) creates a key and grants user B (bob) its use, user C (carol) may
    retire; "after the grant is retired, user B cannot use key A". All three are users of
    one project: bob's project membership gives him nothing, the grant everything."""
    alice, bob, carol = kms("alice"), kms("bob"), kms("carol")
    key_id = create_key(alice)
    no_permission_on_key(lambda: encrypt(bob, key_id, "payroll"), "kms:Encrypt", key_id)
    no_permission_on_key(lambda: describe(bob, key_id), "kms:DescribeKey", key_id)
    grant_id = create_grant(alice, key_id, "bob", ["describe-key", "encrypt-data", "decrypt-data"], retiring="carol")
    sealed = encrypt(bob, key_id, "payroll")
    assert sealed.key_id == key_id and sealed.cipher_text
    opened = decrypt(bob, sealed.cipher_text)
    assert (opened.key_id, opened.plain_text) == (key_id, "payroll")
    details = describe(bob, key_id)
    assert (details.key_id, details.key_state, details.domain_id) == (key_id, "2", "b168fe00ff56492495a7d22974df2d0b")
    # The grant gives what it holds and nothing else.
    no_permission_on_key(lambda: bob.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(key_id=key_id))),
                         "kms:DisableKey", key_id)
    no_permission_on_key(
        lambda: bob.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key_id, datakey_length="256"))),
        "kms:GenerateDataKey", key_id)
    assert describe(alice, key_id).key_state == "2"
    # carol retires with no KMS permission of her own; bob loses the key at once.
    retire(carol, key_id, grant_id)
    assert all_grant_ids(alice, key_id) == []
    no_permission_on_key(lambda: encrypt(bob, key_id, "payroll"), "kms:Encrypt", key_id)
    no_permission_on_key(lambda: decrypt(bob, sealed.cipher_text), "kms:Decrypt", key_id)
    no_permission_on_key(lambda: describe(bob, key_id), "kms:DescribeKey", key_id)
    # What bob sealed is still the administrator's to open.
    assert decrypt(alice, sealed.cipher_text).plain_text == "payroll"


def test_actions_on_no_key_need_a_permission():
    bob, dave = kms("bob"), kms("dave")
    no_permission_for_action(lambda: create_key(bob), "kms:CreateKey")
    no_permission_for_action(lambda: list_keys(bob), "kms:ListKeys")
    no_permission_for_action(
        lambda: bob.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="256"))),
        "kms:GenerateRandom")
    # Read-only dave lists keys but may not create one.
    no_permission_for_action(lambda: create_key(dave), "kms:CreateKey")
    key_id = create_key(kms("alice"))
    listed = list_keys(dave)
    assert key_id in listed.keys
    assert listed.total == len(listed.keys) and listed.truncated == "false"
    random = kms("alice").create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="256")))
    assert re.match(r"^[0-9A-F]{64}$", random.random_data), random.random_data


def test_the_read_only_user_looks_but_never_uses_or_changes():
    alice, dave = kms("alice"), kms("dave")
    key_id = create_key(alice)
    grant_id = create_grant(alice, key_id, "bob", ["encrypt-data"], retiring="carol")
    details = describe(dave, key_id)
    assert (details.key_id, details.key_state) == (key_id, "2")
    [grant] = list_grants(dave, key_id).grants
    assert (grant.grant_id, grant.grantee_principal, grant.operations) == (grant_id, user_id("bob"), ["encrypt-data"])
    assert key_id in list_keys(dave).keys
    no_permission_on_key(lambda: encrypt(dave, key_id, "x"), "kms:Encrypt", key_id)
    sealed = encrypt(alice, key_id, "x").cipher_text
    no_permission_on_key(lambda: decrypt(dave, sealed), "kms:Decrypt", key_id)
    no_permission_on_key(lambda: create_grant(dave, key_id, "dave", ["encrypt-data"]), "kms:CreateGrant", key_id)
    no_permission_on_key(lambda: dave.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(key_id=key_id))),
                         "kms:DisableKey", key_id)
    no_permission_on_key(
        lambda: dave.delete_key(DeleteKeyRequest(body=ScheduleKeyDeletionRequestBody(key_id=key_id, pending_days="7"))),
        "kms:ScheduleKeyDeletion", key_id)
    # Nothing changed: the key is enabled, its one grant stands.
    assert describe(alice, key_id).key_state == "2"
    assert all_grant_ids(alice, key_id) == [grant_id]


def test_another_accounts_user_reaches_a_key_only_through_a_grant():
    alice, erin, frank = kms("alice"), kms("erin"), kms("frank")
    key_id = create_key(alice)
    sealed = encrypt(alice, key_id, "shared").cipher_text
    # erin administers her own account: that gives her nothing on alice's key, which she
    # cannot even see; a ciphertext of it is, to her, one this service cannot open.
    key_not_visible(lambda: encrypt(erin, key_id, "x"), key_id)
    key_not_visible(lambda: describe(erin, key_id), key_id)
    expect_error(lambda: decrypt(erin, sealed), 400, "KMS.2201")
    grant_id = create_grant(alice, key_id, "erin", ["encrypt-data", "decrypt-data"])
    mine = encrypt(erin, key_id, "from erin")
    assert mine.key_id == key_id
    assert decrypt(erin, mine.cipher_text).plain_text == "from erin"
    assert decrypt(erin, sealed).plain_text == "shared"
    assert decrypt(alice, mine.cipher_text).plain_text == "from erin"
    # The grant shows her the key, but does not let her describe it.
    no_permission_on_key(lambda: describe(erin, key_id), "kms:DescribeKey", key_id)
    # frank, of erin's account, holds no grant: the key stays invisible to him.
    key_not_visible(lambda: encrypt(frank, key_id, "x"), key_id)
    expect_error(lambda: decrypt(frank, mine.cipher_text), 400, "KMS.2201")
    revoke(alice, key_id, grant_id)
    key_not_visible(lambda: encrypt(erin, key_id, "x"), key_id)
    expect_error(lambda: decrypt(erin, mine.cipher_text), 400, "KMS.2201")


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


def kms_error(response, status, code, says=""):
    assert response.status_code == status, response.text
    assert response.json()["error"]["error_code"] == code, response.text
    assert says in response.json()["error"]["error_msg"], (says, response.text)
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
    alice, bob, carol, dave = token_of("alice"), token_of("bob"), token_of("carol"), token_of("dave")
    key_id = ok(call(alice, "create-key", {"key_alias": "iam-" + uuid.uuid4().hex[:16]}))["key_info"]["key_id"]
    use = {"key_id": key_id, "plain_text": "token story"}
    kms_error(call(bob, "encrypt-data", use), 403, "KMS.0306", says="kms:Encrypt on key " + key_id)
    grants = []
    for retiring in ("carol", "carol", "dave"):
        body = {"key_id": key_id, "grantee_principal": user_id("bob"),
                "operations": ["describe-key", "encrypt-data", "retire-grant"], "retiring_principal": user_id(retiring)}
        grants.append(ok(call(alice, "create-grant", body))["grant_id"])
    first = ok(call(alice, "list-grants", {"key_id": key_id, "limit": 2}))
    assert first["truncated"] == "true" and first["total"] == 3
    second = ok(call(alice, "list-grants", {"key_id": key_id, "limit": 2, "marker": first["next_marker"]}))
    assert second["truncated"] == "false" and second["next_marker"] == ""
    assert [g["grant_id"] for g in first["grants"] + second["grants"]] == grants
    assert ok(call(bob, "encrypt-data", use))["key_id"] == key_id
    # Listing retirable grants needs a permission carol lacks and read-only dave holds.
    kms_error(call(carol, "list-retirable-grants", {"limit": 1000}), 403, "KMS.0307", says="kms:ListRetirableGrants")
    listed = ok(call(dave, "list-retirable-grants", {"limit": 1000}))
    assert grants[2] in {g["grant_id"] for g in listed["grants"]}
    assert not set(grants[:2]) & {g["grant_id"] for g in listed["grants"]}
    kms_error(call(bob, "revoke-grant", {"key_id": key_id, "grant_id": grants[0]}), 403, "KMS.0306",
              says="kms:RevokeGrant on key " + key_id)
    ok(call(alice, "revoke-grant", {"key_id": key_id, "grant_id": grants[0]}))
    ok(call(carol, "retire-grant", {"key_id": key_id, "grant_id": grants[1]}))
    # bob still holds one grant, and uses the key through it.
    assert ok(call(bob, "encrypt-data", use))["key_id"] == key_id
    ok(call(bob, "retire-grant", {"key_id": key_id, "grant_id": grants[2]}))
    kms_error(call(alice, "revoke-grant", {"key_id": key_id, "grant_id": grants[2]}), 400, "KMS.2501")
    assert ok(call(alice, "list-grants", {"key_id": key_id}))["total"] == 0
    kms_error(call(bob, "encrypt-data", use), 403, "KMS.0306", says="kms:Encrypt on key " + key_id)


def test_iam_token_errors():
    wrong = iam_token("alice", password="wrong")
    unknown = iam_token("mallory", password="alice-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "X-Subject-Token" not in wrong.headers
    kms_error(call("MIIkms-not-a-token", "list-keys", {}), 403, "KMS.0302")
    kms_error(call("", "list-keys", {}), 403, "KMS.0301")


def test_sign_and_verify_with_a_key_pair_checked_by_cryptography():
    import base64
    import hashlib

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-ec-" + uuid.uuid4().hex[:12], key_spec="EC_P256", key_usage="SIGN_VERIFY")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    info = describe(alice, key_id)
    assert (info.key_spec, info.key_usage) == ("EC_P256", "SIGN_VERIFY")

    message = b"ship release 4.2"
    digest = hashlib.sha256(message).digest()
    signed = alice.sign(SignRequest(body=SignRequestBody(
        key_id=key_id, message=base64.b64encode(digest).decode(), signing_algorithm="ECDSA_SHA_256", message_type="DIGEST")))
    signature = base64.b64decode(signed.signature)

    # The public key, as PEM, verifies the signature outside the emulator.
    pem = alice.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    public = serialization.load_pem_public_key(pem.encode())
    public.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    def verify(sig, msg):
        body = VerifyRequestBody(key_id=key_id, message=base64.b64encode(msg).decode(),
                                 signature=base64.b64encode(sig).decode(),
                                 signing_algorithm="ECDSA_SHA_256", message_type="DIGEST")
        return alice.validate_signature(ValidateSignatureRequest(body=body)).signature_valid

    assert verify(signature, digest) == "true"
    assert verify(signature, hashlib.sha256(b"ship release 6.6").digest()) == "false"
    # A symmetric key does not sign: KMS.1115.
    aes = create_key(alice)
    expect_error(lambda: alice.sign(SignRequest(body=SignRequestBody(
        key_id=aes, message=base64.b64encode(digest).decode(), signing_algorithm="ECDSA_SHA_256"))), 400, "KMS.1115")


def test_rsa_key_pair_encryption_checked_by_cryptography():
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-rsa-" + uuid.uuid4().hex[:12], key_spec="RSA_2048",
                                key_usage="ENCRYPT_DECRYPT")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

    # The emulator encrypts; cryptography cannot open it (no private key), but the emulator does.
    sealed = alice.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=key_id, plain_text="for the key pair", encryption_algorithm="RSAES_OAEP_SHA_256")))
    assert len(base64.b64decode(sealed.cipher_text)) == 256
    opened = alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=sealed.cipher_text, key_id=key_id, encryption_algorithm="RSAES_OAEP_SHA_256")))
    assert opened.plain_text == "for the key pair"

    # cryptography encrypts with the public key from get-publickey; the emulator decrypts.
    pem = alice.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    public = serialization.load_pem_public_key(pem.encode())
    offline = public.encrypt(b"made by cryptography", oaep)
    opened = alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=base64.b64encode(offline).decode(), key_id=key_id, encryption_algorithm="RSAES_OAEP_SHA_256")))
    assert base64.b64decode(opened.plain_text_base64) == b"made by cryptography"

    # A key pair's ciphertext needs its key_id; the default algorithm does not fit a key pair.
    expect_error(lambda: alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=sealed.cipher_text, encryption_algorithm="RSAES_OAEP_SHA_256"))), 400, "KMS.0204")
    expect_error(lambda: encrypt(alice, key_id, "x"), 400, "KMS.0308")
    # Bob has no rights until a grant gives them.
    bob = kms("bob")
    no_permission_on_key(lambda: bob.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=key_id, plain_text="x", encryption_algorithm="RSAES_OAEP_SHA_256"))), "kms:Encrypt", key_id)


@pytest.mark.parametrize("kind,spec", [
    ("rsa", "RSA_2048"), ("rsa", "RSA_3072"), ("ec", "ECC_NIST_P256"), ("ec", "ECC_NIST_P384"),
    ("ec", "ECC_NIST_P521"), ("ec", "ECC_SECG_P256K1"),
])
def test_data_key_pairs_checked_by_cryptography(kind, spec):
    import base64

    from cryptography.hazmat.primitives import serialization

    alice = kms("alice")
    key_id = create_key(alice)
    if kind == "rsa":
        made = alice.create_rsa_datakey_pair(CreateRsaDatakeyPairRequest(body=CreateRsaDatakeyPairRequestBody(
            key_id=key_id, key_spec=spec, additional_authenticated_data="pair-aad")))
    else:
        made = alice.create_ec_datakey_pair(CreateEcDatakeyPairRequest(body=CreateEcDatakeyPairRequestBody(
            key_id=key_id, key_spec=spec, additional_authenticated_data="pair-aad")))
    assert (made.key_id, made.key_spec) == (key_id, spec)
    private_der = base64.b64decode(made.private_key_plain_text)
    private = serialization.load_der_private_key(private_der, password=None)
    public = serialization.load_der_public_key(base64.b64decode(made.public_key))
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    # The private key is the public key's other half.
    assert private.public_key().public_bytes(*spki) == public.public_bytes(*spki)
    # decrypt-data opens the private key ciphertext (with the same additional data) to the PKCS#8.
    opened = alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=made.private_key_cipher_text, additional_authenticated_data="pair-aad")))
    assert base64.b64decode(opened.plain_text_base64) == private_der
    expect_error(lambda: decrypt(alice, made.private_key_cipher_text), 400, "KMS.2201")


def test_data_key_pair_without_plain_text_and_refusals():
    alice = kms("alice")
    key_id = create_key(alice)
    made = alice.create_ec_datakey_pair(CreateEcDatakeyPairRequest(body=CreateEcDatakeyPairRequestBody(
        key_id=key_id, key_spec="SM2", with_plain_text=False)))
    assert made.private_key_plain_text is None
    assert made.public_key and made.private_key_cipher_text
    expect_error(lambda: alice.create_rsa_datakey_pair(CreateRsaDatakeyPairRequest(
        body=CreateRsaDatakeyPairRequestBody(key_id=key_id, key_spec="ECC_NIST_P256"))), 400, "KMS.0308")
    no_permission_on_key(lambda: kms("dave").create_ec_datakey_pair(CreateEcDatakeyPairRequest(
        body=CreateEcDatakeyPairRequestBody(key_id=key_id, key_spec="ECC_NIST_P256"))), "kms:GenerateDataKeyPair", key_id)


def test_derive_shared_secret_checked_by_cryptography():
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-ecdh-" + uuid.uuid4().hex[:12], key_spec="EC_P256",
                                key_usage="KEY_AGREEMENT")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    ours = ec.generate_private_key(ec.SECP256R1())
    our_public = ours.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    derived = alice.derive_shared_secret(DeriveSharedSecretRequest(body=DeriveSharedSecretRequestBody(
        key_id=key_id, key_agreement_algorithm="ECDH", public_key=base64.b64encode(our_public).decode())))
    pem = alice.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    theirs = serialization.load_pem_public_key(pem.encode())
    assert base64.b64decode(derived.shared_secret) == ours.exchange(ec.ECDH(), theirs)
    expect_error(lambda: alice.derive_shared_secret(DeriveSharedSecretRequest(body=DeriveSharedSecretRequestBody(
        key_id=key_id, key_agreement_algorithm="ECDH", public_key=base64.b64encode(b"junk").decode()))), 400, "KMS.0308")


def test_hmac_keys_generate_and_verify_macs():
    import base64

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-mac-" + uuid.uuid4().hex[:12], key_spec="HMAC_256")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    assert describe(alice, key_id).key_usage == "GENERATE_VERIFY_MAC"
    message = base64.b64encode(b"webhook body").decode()
    mac = alice.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
        key_id=key_id, mac_algorithm="HMAC_SHA_256", message=message))).mac
    assert len(base64.b64decode(mac)) == 32

    def verify(tag):
        body = VerifyMacRequestBody(key_id=key_id, mac_algorithm="HMAC_SHA_256", message=message, mac=tag)
        return alice.verify_mac(VerifyMacRequest(body=body)).mac_valid

    assert verify(mac) is True
    forged = bytearray(base64.b64decode(mac))
    forged[0] ^= 1
    assert verify(base64.b64encode(bytes(forged)).decode()) is False


def test_imported_key_material_checked_by_cryptography():
    """BYOK through the SDK: the material is wrapped with get-parameters-for-import's public
    key (RSAES_OAEP_SHA_256) by the cryptography library; delete and re-import of the same
    material, other material refused (KMS.2606)."""
    import base64
    import time

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-byok-" + uuid.uuid4().hex[:12], origin="external")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    assert describe(alice, key_id).key_state == "5"

    def import_body(material, **extra):
        body = GetParametersForImportRequestBody(key_id=key_id, wrapping_algorithm="RSAES_OAEP_SHA_256")
        params = alice.create_parameters_for_import(CreateParametersForImportRequest(body=body))
        assert params.key_id == key_id
        assert abs(params.expiration_time - time.time() - 86400) < 120
        public = serialization.load_der_public_key(base64.b64decode(params.public_key))
        encrypted = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                          algorithm=hashes.SHA256(), label=None))
        return ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                            encrypted_key_material=base64.b64encode(encrypted).decode(), **extra)

    def import_material(body):
        return alice.import_key_material(ImportKeyMaterialRequest(body=body))

    material = os.urandom(32)
    expect_error(lambda: kms("dave").import_key_material(ImportKeyMaterialRequest(body=import_body(material))),
                 403, "KMS.0306")
    import_material(import_body(material, expiration_time=int(time.time()) + 86400 * 30))
    assert describe(alice, key_id).key_state == "2"
    cipher = encrypt(alice, key_id, "byok").cipher_text
    alice.delete_imported_key_material(DeleteImportedKeyMaterialRequest(body=OperateKeyRequestBody(key_id=key_id)))
    assert describe(alice, key_id).key_state == "5"
    expect_error(lambda: import_material(import_body(os.urandom(32))), 400, "KMS.2606")
    import_material(import_body(material))
    assert decrypt(alice, cipher).plain_text == "byok"


def test_update_key_description():
    alice = kms("alice")
    key_id = create_key(alice)
    body = UpdateKeyDescriptionRequestBody(key_id=key_id, key_description="rotated quarterly")
    reply = alice.update_key_description(UpdateKeyDescriptionRequest(body=body))
    assert reply.key_info.key_description == "rotated quarterly"
    assert describe(alice, key_id).key_description == "rotated quarterly"
    expect_error(lambda: kms("dave").update_key_description(UpdateKeyDescriptionRequest(body=body)), 403, "KMS.0306")


def test_quotas_and_instance_count():
    erin = kms("erin")
    before = erin.show_user_instances(ShowUserInstancesRequest()).instance_num
    create_key(erin)
    assert erin.show_user_instances(ShowUserInstancesRequest()).instance_num == before + 1
    resources = {r.type: r for r in erin.show_user_quotas(ShowUserQuotasRequest()).quotas.resources}
    assert resources["CMK"].used == before + 1 and resources["CMK"].quota == 100
    assert resources["grant_per_CMK"].quota == 100


def test_support_regions_lists_the_served_regions():
    # run.sh serves eu-de only (the default --region).
    assert kms("alice").list_support_regions(ListSupportRegionsRequest()).regions == ["eu-de"]


def test_replicate_and_update_primary_region_reach_the_multi_region_rules():
    # run.sh serves one region, and SDK-made keys are single-Region ones (only AWS CreateKey
    # with MultiRegion makes an mrk- key): the SDK's requests reach the rules, which refuse
    # them (tests/api/multi_region.rs covers the success paths over two regions).
    alice = kms("alice")
    key_id = create_key(alice)
    body = ReplicateKeyRequestBody(
        key_id=key_id, replica_region="eu-nl", key_alias="sdk-replica", key_description="replica",
        replica_project_id=project_of("alice"), tags=[TagItem(key="env", value="test")])
    expect_error(lambda: alice.replicate_key(ReplicateKeyRequest(key_id=key_id, body=body)),
                 400, "KMS.0308", says=("not a multi-Region key",))
    body = UpdatePrimaryRegionRequestBody(key_id=key_id, primary_region="eu-nl")
    expect_error(lambda: alice.update_primary_region(UpdatePrimaryRegionRequest(key_id=key_id, body=body)),
                 400, "KMS.0308", says=("not a multi-Region key",))


def rotation_status(client, key_id):
    return client.show_key_rotation_status(ShowKeyRotationStatusRequest(body=OperateKeyRequestBody(key_id=key_id)))


def test_key_rotation_and_re_encrypt():
    alice, dave = kms("alice"), kms("dave")
    key_id = create_key(alice)
    old = encrypt(alice, key_id, "before").cipher_text
    status = rotation_status(alice, key_id)
    assert (status.key_rotation_enabled, status.rotation_interval, status.number_of_rotations) == (False, 365, 0)
    alice.enable_key_rotation(EnableKeyRotationRequest(body=OperateKeyRequestBody(key_id=key_id)))
    body = UpdateKeyRotationIntervalRequestBody(key_id=key_id, rotation_interval=30)
    alice.update_key_rotation_interval(UpdateKeyRotationIntervalRequest(body=body))
    assert describe(alice, key_id).key_rotation_enabled == "true"
    reply = alice.rotate_on_demand(RotateOnDemandRequest(body=RotateOnDemandRequestBody(key_id=key_id)))
    assert reply.key_id == key_id
    status = rotation_status(dave, key_id)
    assert (status.key_rotation_enabled, status.rotation_interval, status.number_of_rotations) == (True, 30, 1)
    assert status.last_rotation_time
    new = encrypt(alice, key_id, "after").cipher_text
    assert decrypt(alice, old).plain_text == "before" and decrypt(alice, new).plain_text == "after"
    expect_error(lambda: dave.enable_key_rotation(EnableKeyRotationRequest(body=OperateKeyRequestBody(key_id=key_id))),
                 403, "KMS.0306")
    bad = UpdateKeyRotationIntervalRequestBody(key_id=key_id, rotation_interval=29)
    expect_error(lambda: alice.update_key_rotation_interval(UpdateKeyRotationIntervalRequest(body=bad)), 400, "KMS.0308")
    alice.disable_key_rotation(DisableKeyRotationRequest(body=OperateKeyRequestBody(key_id=key_id)))
    assert rotation_status(alice, key_id).key_rotation_enabled is False
    body = UpdateKeyRotationIntervalRequestBody(key_id=key_id, rotation_interval=60)
    expect_error(lambda: alice.update_key_rotation_interval(UpdateKeyRotationIntervalRequest(body=body)), 400, "KMS.0313")

    destination = create_key(alice)
    moved = alice.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=old, destination_key_id=destination, destination_additional_authenticated_data="to-b")))
    assert moved.key_id == destination and moved.source_key_id == key_id
    body = DecryptDataRequestBody(cipher_text=moved.cipher_text, additional_authenticated_data="to-b")
    assert alice.decrypt_data(DecryptDataRequest(body=body)).plain_text == "before"
    no_permission_on_key(lambda: kms("bob").re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=old, destination_key_id=destination))), "kms:ReEncryptFrom", key_id)


def test_sm4_keys_through_the_sdk():
    import hashlib

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-sm4-" + uuid.uuid4().hex[:12], key_spec="SM4")
    key_id = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    assert describe(alice, key_id).key_spec == "SM4"
    sealed = alice.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=key_id, plain_text="guo mi", encryption_algorithm="SYMMETRIC_DEFAULT",
        additional_authenticated_data="aad")))
    opened = alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=sealed.cipher_text, additional_authenticated_data="aad")))
    assert opened.key_id == key_id and opened.plain_text == "guo mi"

    # A 128-bit SM4 data key; decrypt-datakey answers its SM3 digest.
    made = alice.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key_id, key_spec="SM4")))
    assert len(made.plain_text) == 32
    dek = bytes.fromhex(made.plain_text)
    opened = alice.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key_id, cipher_text=made.cipher_text, datakey_cipher_length="16")))
    assert opened.data_key == made.plain_text
    assert opened.datakey_dgst == hashlib.new("sm3", dek).hexdigest().upper()
    # encrypt-datakey under an SM4 key takes the SM3 digest, not SHA-256.
    with_sm3 = (dek + hashlib.new("sm3", dek).digest()).hex().upper()
    sealed = alice.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key_id, plain_text=with_sm3, datakey_plain_length="16")))
    assert sealed.datakey_length == "16"
    with_sha256 = (dek + hashlib.sha256(dek).digest()).hex().upper()
    expect_error(lambda: alice.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key_id, plain_text=with_sha256, datakey_plain_length="16"))), 400, "KMS.2103")


def test_re_encrypt_from_and_to_key_pairs_checked_by_cryptography():
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    alice = kms("alice")
    body = CreateKeyRequestBody(key_alias="sdk-rsa-re-" + uuid.uuid4().hex[:12], key_spec="RSA_2048",
                                key_usage="ENCRYPT_DECRYPT")
    rsa = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    body = CreateKeyRequestBody(key_alias="sdk-sm2-re-" + uuid.uuid4().hex[:12], key_spec="SM2",
                                key_usage="ENCRYPT_DECRYPT")
    sm2 = alice.create_key(CreateKeyRequest(body=body)).key_info.key_id
    symmetric = create_key(alice)

    # cryptography encrypts offline with the RSA public key; re-encrypt moves it to the symmetric key.
    pem = alice.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=rsa))).public_key
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    offline = serialization.load_pem_public_key(pem.encode()).encrypt(b"made offline", oaep)
    moved = alice.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=base64.b64encode(offline).decode(), source_key_id=rsa,
        source_encryption_algorithm="RSAES_OAEP_SHA_1", destination_key_id=symmetric)))
    assert (moved.source_key_id, moved.key_id) == (rsa, symmetric)
    assert moved.source_encryption_algorithm == "RSAES_OAEP_SHA_1"
    assert moved.destination_encryption_algorithm == "SYMMETRIC_DEFAULT"
    assert decrypt(alice, moved.cipher_text).plain_text == "made offline"

    # And on to the SM2 key, whose ciphertext decrypt-data opens with its key and algorithm.
    to_sm2 = alice.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=moved.cipher_text, destination_key_id=sm2, destination_encryption_algorithm="SM2_ENCRYPT")))
    opened = alice.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=to_sm2.cipher_text, key_id=sm2, encryption_algorithm="SM2_ENCRYPT")))
    assert opened.plain_text == "made offline"

    # A key pair's ciphertext needs its key; an algorithm the key lacks is refused.
    expect_error(lambda: alice.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=to_sm2.cipher_text, source_encryption_algorithm="SM2_ENCRYPT",
        destination_key_id=symmetric))), 400, "KMS.0204")
    expect_error(lambda: alice.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=to_sm2.cipher_text, source_key_id=sm2, source_encryption_algorithm="RSAES_OAEP_SHA_256",
        destination_key_id=symmetric))), 400, "KMS.0308")


# ---- Tags and aliases (issue 13)


def test_tags_through_the_sdk():
    alice = kms("alice")
    key_id = create_key(alice)
    alice.create_kms_tag(CreateKmsTagRequest(key_id=key_id, body=CreateKmsTagRequestBody(tag=TagItem(key="env", value="prod"))))
    alice.batch_create_kms_tags(BatchCreateKmsTagsRequest(key_id=key_id, body=BatchCreateKmsTagsRequestBody(
        action="create", tags=[TagItem(key="team", value="a"), TagItem(key="env", value="dev")])))
    shown = alice.show_kms_tags(ShowKmsTagsRequest(key_id=key_id))
    assert [(t.key, t.value) for t in shown.tags] == [("env", "dev"), ("team", "a")]
    assert shown.exist_tags_num == 2
    alice.delete_tag(DeleteTagRequest(key_id=key_id, key="team"))
    expect_error(lambda: alice.delete_tag(DeleteTagRequest(key_id=key_id, key="team")), 404, "KMS.0416")
    listed = alice.list_kms_tags(ListKmsTagsRequest())
    assert ("env", ["dev"]) in [(t.key, t.values) for t in listed.tags]
    found = alice.list_kms_by_tags(ListKmsByTagsRequest(resource_instances="resource_instances", body=ListKmsByTagsRequestBody(
        action="filter", limit="10", offset="0", tags=[Tag(key="env", values=["dev"])])))
    assert key_id in [r.resource_id for r in found.resources]
    assert all(isinstance(r, ActionResources) for r in found.resources)
    resource = [r for r in found.resources if r.resource_id == key_id][0]
    assert resource.resource_detail.key_id == key_id
    assert [(t.key, t.value) for t in resource.tags] == [("env", "dev")]
    counted = alice.list_kms_by_tags(ListKmsByTagsRequest(resource_instances="resource_instances", body=ListKmsByTagsRequestBody(
        action="count", tags=[Tag(key="env", values=["dev"])])))
    assert counted.total_count == found.total_count >= 1
    too_many = [TagItem(key="k%d" % i, value="v") for i in range(21)]
    expect_error(lambda: alice.batch_create_kms_tags(BatchCreateKmsTagsRequest(key_id=key_id, body=BatchCreateKmsTagsRequestBody(
        action="create", tags=too_many))), 400, "KMS.0409")
    no_permission_on_key(lambda: kms("bob").create_kms_tag(CreateKmsTagRequest(
        key_id=key_id, body=CreateKmsTagRequestBody(tag=TagItem(key="x", value="y")))), "kms:TagResource", key_id)
    assert kms("dave").show_kms_tags(ShowKmsTagsRequest(key_id=key_id)).exist_tags_num == 1


def test_aliases_through_the_sdk():
    alice = kms("alice")
    first, second = create_key(alice), create_key(alice)
    name = "sdk-" + uuid.uuid4().hex[:12]
    created = alice.create_alias(CreateAliasRequest(body=CreateAliasRequestBody(key_id=first, alias=name)))
    assert created.alias == name and created.key_id == first
    assert created.alias_urn.endswith(":alias:" + name)
    expect_error(lambda: alice.create_alias(CreateAliasRequest(body=CreateAliasRequestBody(key_id=second, alias=name))), 400, "KMS.1104")
    pages = alice.list_aliases(ListAliasesRequest(key_id=first)).body
    assert [a.alias for a in pages[0].aliases] == [name]
    assert pages[0].page_info.current_count == 1
    moved = alice.associate_alias(AssociateAliasRequest(body=AssociateAliasRequestBody(alias=name, target_key_id=second)))
    assert moved.key_id == second
    alice.delete_alias(DeleteAliasRequest(body=DeleteAliasRequestBody(key_id=second, aliases=[name])))
    assert alice.list_aliases(ListAliasesRequest(key_id=second)).body[0].aliases == []
    renamed = "sdk-renamed-" + uuid.uuid4().hex[:12]
    updated = alice.update_key_alias(UpdateKeyAliasRequest(body=UpdateKeyAliasRequestBody(key_id=first, key_alias=renamed)))
    assert updated.key_info.key_alias == renamed
    assert describe(alice, first).key_alias == renamed


def test_key_policies_and_capsules_through_the_sdk():
    import base64
    import json
    import time

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    alice = kms("alice")
    space = str(uuid.uuid4())
    now = int(time.time() * 1000)
    document = {"version": "1.0",
                "validity_period": {"start_time": str(now - 60000), "end_time": str(now + 3600000)},
                "allowed_access_point": ["ap-sdk"], "allowed_data_security_zone": []}
    created = alice.create_key_policy(CreateKeyPolicyRequest(body=CreateKeyPolicyRequestBody(
        keyspace_id=space, policy_name="sdk/policy", policy=json.dumps(document), description="sdk")))
    policy_id = created.policy_id
    shown = alice.show_key_policy(ShowKeyPolicyRequest(policy_id=policy_id))
    assert shown.keyspace_id == space and shown.policy_name == "sdk/policy"
    assert shown.policy.allowed_access_point == ["ap-sdk"]
    assert shown.policy.validity_period.end_time == str(now + 3600000)
    assert shown.created_by == USERS["alice"][0]
    second = alice.create_key_policy(CreateKeyPolicyRequest(body=CreateKeyPolicyRequestBody(
        keyspace_id=space, policy_name="sdk-2", policy="{}"))).policy_id
    page = alice.list_key_policy(ListKeyPolicyRequest(keyspace_id=space, limit="1"))
    assert page.page_info.current_count == 1 and page.page_info.next_marker
    rest = alice.list_key_policy(ListKeyPolicyRequest(keyspace_id=space, marker=page.page_info.next_marker))
    assert sorted([page.keyspace_policies[0].policy_id, rest.keyspace_policies[0].policy_id]) == sorted([policy_id, second])
    assert rest.page_info.next_marker == ""
    updated = alice.update_key_policy(UpdateKeyPolicyRequest(policy_id=second, body=UpdateKeyPolicyRequestBody(
        description="changed")))
    assert updated.description == "changed"
    alice.delete_key_policy(DeleteKeyPolicyRequest(policy_id=second))
    expect_error(lambda: alice.show_key_policy(ShowKeyPolicyRequest(policy_id=second)), 404, "KMS.0207")
    expect_error(lambda: alice.create_key_policy(CreateKeyPolicyRequest(body=CreateKeyPolicyRequestBody(
        keyspace_id=space, policy_name="bad", policy="not json"))), 400, "KMS.0202")

    # A capsule under the policy, its data key encrypted to the client's RSA key.
    key_id = create_key(alice)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    made = alice.create_datakey_capsule(CreateDatakeyCapsuleRequest(body=CreateDatakeyCapsuleRequestBody(
        key_id=key_id, datakey_length="256", policy_id=policy_id,
        public_key=base64.b64encode(public_der).decode())))
    assert made.datakey is None
    data_key = private.decrypt(base64.b64decode(made.datakey_cipher), oaep)
    assert len(data_key) == 32

    def decrypt(token):
        return alice.decrypt_datakey_capsule(DecryptDatakeyCapsuleRequest(body=DecryptDatakeyCapsuleRequestBody(
            key_id=key_id, datakey_capsule=made.datakey_capsule,
            attestation_document=DecryptDatakeyCapsuleRequestBodyAttestationDocument(service_token=token))))

    opened = decrypt("ap-sdk")
    assert opened.instance_id == "ap-sdk" and opened.key_id == key_id
    assert bytes.fromhex(opened.datakey) == data_key
    expect_error(lambda: decrypt("ap-elsewhere"), 403, "KMS.0306")
