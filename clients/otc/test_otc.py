"""otcextensions (the Open Telekom Cloud SDK on openstacksdk, both pinned in
requirements.txt) against a running emulator named by KMS_EMULATOR_URL.

The connection is made as a user would: keystone password auth (alice / alice-password in
domain demo-account, project eu-de) against the emulator's IAM, with `auth_url` both with
and without `/v3`; the KMS endpoint comes from the token's catalog. Every test checks that
nothing was logged at WARNING or above during connect and calls (keystoneauth logs "Failed
to discover available identity versions" when discovery fails and then falls back).

Key operations go through otcextensions' KMS proxy (`conn.kms`); what the proxy does not
offer (grants, encrypt-data) goes through `conn.kms.post(...)`, a raw call on the same
session with the same token and endpoint.
"""

import binascii
import logging
import os
import re
import uuid

import openstack
import pytest
from openstack import exceptions
from otcextensions import sdk

URL = os.environ.get("KMS_EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
PROJECT_NAME = "eu-de"
DOMAIN_NAME = "demo-account"
DOMAIN_ID = "b168fe00ff56492495a7d22974df2d0b"
BOB = "b0b00000000000000000000000000002"
CAROL = "ca401000000000000000000000000003"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Both spellings a user writes: keystoneauth discovers the identity version from either.
AUTH_URLS = [URL + "/v3", URL]


def connect(auth_url, user="alice"):
    conn = openstack.connect(
        auth_url=auth_url,
        username=user,
        password=f"{user}-password",
        user_domain_name=DOMAIN_NAME,
        project_name=PROJECT_NAME,
        project_domain_name=DOMAIN_NAME,
        region_name="eu-de",
    )
    sdk.register_otc_extensions(conn)
    return conn


@pytest.fixture(autouse=True)
def no_warnings(caplog):
    """Nothing may be logged at WARNING or above, by any logger, for the whole test."""
    caplog.set_level(logging.WARNING)
    yield
    # Setup (the `conn` fixture connects there), the call, and teardown so far.
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    logged = [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.WARNING]
    assert logged == []


@pytest.fixture(params=AUTH_URLS, ids=["auth_url-v3", "auth_url-root"])
def conn(request):
    return connect(request.param)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def raw(conn, action, body):
    """A KMS action the proxy has no method for, on the proxy's session (token, endpoint)."""
    response = conn.kms.post(f"/kms/{action}", json=body)
    return response.status_code, response.json() if response.content else None


def test_connect_uses_the_token_and_the_catalog(conn):
    conn.authorize()
    assert conn.current_project_id == PROJECT
    assert conn.current_user_id == "a11ce000000000000000000000000001"
    endpoint = conn.kms.get_endpoint()
    assert endpoint == f"{URL}/v1.0/{PROJECT}"


def test_key_lifecycle(conn):
    alias = unique("otc")
    created = conn.kms.create_key(key_alias=alias, key_description="otcextensions suite")
    assert UUID.match(created.id), created
    assert created.key_alias == alias
    assert created.domain_id == DOMAIN_ID

    key = conn.kms.get_key(created.id)
    assert key.id == created.id
    assert key.key_alias == alias
    assert key.key_description == "otcextensions suite"
    assert key.key_state == "2"
    assert key.domain_id == DOMAIN_ID
    assert key.default_key_flag == "0"
    assert int(key.creation_date) > 0

    assert conn.kms.find_key(alias).id == created.id
    assert created.id in [k.id for k in conn.kms.keys()]

    disabled = conn.kms.disable_key(created.id)
    assert disabled.key_state == "3"
    assert conn.kms.get_key(created.id).key_state == "3"
    assert created.id in [k.id for k in conn.kms.keys(key_state="3")]
    assert created.id not in [k.id for k in conn.kms.keys(key_state="2")]
    enabled = conn.kms.enable_key(created.id)
    assert enabled.key_state == "2"

    scheduled = conn.kms.schedule_key_deletion(created.id, pending_days=7)
    assert scheduled.key_state == "4"
    pending = conn.kms.get_key(created.id)
    assert pending.key_state == "4"
    assert int(pending.scheduled_deletion_date) > int(pending.creation_date) + 6 * 86_400_000
    # Cancelling leaves the key disabled, as Huawei's KMS does.
    assert conn.kms.cancel_key_deletion(created.id).key_state == "3"
    assert conn.kms.get_key(created.id).key_state == "3"


def test_key_listing_pages(conn):
    ids = {conn.kms.create_key(key_alias=unique("page")).id for _ in range(3)}
    # limit=1 makes the proxy follow `truncated` / `next_marker` page by page.
    listed = [k.id for k in conn.kms.keys(limit=1)]
    assert len(listed) == len(set(listed)), "no key twice across pages"
    assert ids <= set(listed)
    assert set(listed) == {k.id for k in conn.kms.keys()}


def test_errors(conn):
    with pytest.raises(exceptions.NotFoundException):
        conn.kms.get_key(str(uuid.uuid4()))
    alias = unique("dup")
    conn.kms.create_key(key_alias=alias)
    with pytest.raises(exceptions.DuplicateResource):
        conn.kms.create_key(key_alias=alias)
    with pytest.raises(exceptions.ResourceNotFound):
        conn.kms.find_key(unique("absent"))
    assert conn.kms.find_key(unique("absent"), ignore_missing=True) is None


def test_data_keys(conn):
    key = conn.kms.create_key(key_alias=unique("dek"))
    data_key = conn.kms.create_datakey(key, datakey_length="512")
    plain = binascii.unhexlify(data_key.plain_text)
    assert len(plain) == 64
    assert data_key.key_id == key.id
    cipher = data_key.cipher_text
    assert re.fullmatch(r"[0-9A-Fa-f]+", cipher)

    decrypted = conn.kms.decrypt_datakey(key, cipher, "64")
    assert decrypted.plain_text == data_key.plain_text

    without = conn.kms.create_datakey_wo_plain(key, datakey_length="256")
    assert without.plain_text is None
    assert len(binascii.unhexlify(conn.kms.decrypt_datakey(key, without.cipher_text, "32").plain_text)) == 32

    # encrypt-datakey: the proxy appends the SHA-256 of the plain key as Huawei requires.
    mine = os.urandom(32).hex()
    sealed = conn.kms.encrypt_datakey(sdk.kms.v1.data_key.DataKey(key_id=key.id, plain_text=mine))
    assert sealed.cipher_text and sealed.cipher_text != mine
    opened = conn.kms.decrypt_datakey(key, sealed.cipher_text, "32")
    assert opened.plain_text.lower() == mine


def test_encrypt_and_decrypt_data(conn):
    key = conn.kms.create_key(key_alias=unique("data"))
    status, sealed = raw(conn, "encrypt-data", {"key_id": key.id, "plain_text": "payroll 2026"})
    assert status == 200, sealed
    assert sealed["key_id"] == key.id
    status, opened = raw(conn, "decrypt-data", {"cipher_text": sealed["cipher_text"]})
    assert status == 200, opened
    assert opened["plain_text"] == "payroll 2026"
    assert opened["key_id"] == key.id


def test_random(conn):
    random = conn.kms.generate_random(512)
    assert re.fullmatch(r"[0-9A-F]{128}", random.random_data), random.random_data
    assert random.random_data != conn.kms.generate_random(512).random_data


def test_quotas_and_instance_number(conn):
    before = conn.kms.get_instance_number().instance_num
    quotas = {q.type: q for q in conn.kms.quotas()}
    assert set(quotas) == {"CMK", "grant_per_CMK"}
    assert quotas["CMK"].used == before
    assert quotas["CMK"].quota >= before

    key = conn.kms.create_key(key_alias=unique("count"))
    assert conn.kms.get_instance_number().instance_num == before + 1
    assert {q.type: q.used for q in conn.kms.quotas()}["CMK"] == before + 1
    conn.kms.schedule_key_deletion(key, pending_days=7)
    assert conn.kms.get_instance_number().instance_num == before + 1, "a key pending deletion still counts"


def test_grants_through_raw_calls(conn):
    """The seeds' story with the proxy's session: alice grants bob, carol may retire;
    bob (his own keystone login) uses the key, and after carol retires the grant he cannot."""
    key = conn.kms.create_key(key_alias=unique("grant"))
    status, grant = raw(conn, "create-grant", {
        "key_id": key.id,
        "grantee_principal": BOB,
        "operations": ["describe-key", "encrypt-data", "decrypt-data"],
        "retiring_principal": CAROL,
        "name": "otc-app",
    })
    assert status == 200, grant
    grant_id = grant["grant_id"]
    assert re.fullmatch(r"[0-9a-f]{64}", grant_id)

    status, listed = raw(conn, "list-grants", {"key_id": key.id})
    assert status == 200, listed
    assert listed["total"] == 1
    (entry,) = listed["grants"]
    assert entry["grant_id"] == grant_id
    assert entry["grantee_principal"] == BOB
    assert entry["retiring_principal"] == CAROL
    assert sorted(entry["operations"]) == ["decrypt-data", "describe-key", "encrypt-data"]
    assert entry["name"] == "otc-app"

    bob = connect(URL + "/v3", "bob")
    status, sealed = raw(bob, "encrypt-data", {"key_id": key.id, "plain_text": "for bob"})
    assert status == 200, sealed
    status, _ = raw(bob, "create-datakey", {"key_id": key.id})
    assert status == 403, "the grant does not cover create-datakey"

    # carol holds no KMS permission: she may retire the grant she is named in, nothing more.
    carol = connect(URL, "carol")
    status, body = raw(carol, "retire-grant", {"key_id": key.id, "grant_id": grant_id})
    assert status == 200, body

    status, refused = raw(bob, "decrypt-data", {"cipher_text": sealed["cipher_text"]})
    assert status == 403, refused
    assert refused["error"]["error_code"] == "KMS.0306"
    status, listed = raw(conn, "list-grants", {"key_id": key.id})
    assert listed["total"] == 0

    # Revoke: alice takes back a second grant herself.
    status, second = raw(conn, "create-grant", {"key_id": key.id, "grantee_principal": BOB, "operations": ["describe-key"]})
    assert status == 200, second
    status, body = raw(conn, "revoke-grant", {"key_id": key.id, "grant_id": second["grant_id"]})
    assert status == 200, body
    status, body = raw(conn, "revoke-grant", {"key_id": key.id, "grant_id": second["grant_id"]})
    assert status == 400 and body["error"]["error_code"] == "KMS.2501", body
