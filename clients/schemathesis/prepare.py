"""Prepares the document schemathesis runs against, from the one the server serves.

    python prepare.py BASE_URL ADMIN_TOKEN PROJECT_ID GRANTEE_ID OUT.json

- {project_id} is fixed to the callers' project: a random one only ever gets 403,
  which tests nothing behind authentication.
- Things that exist are made first, by ADMIN_TOKEN's user, who must hold the KMS
  permissions (alice, "KMS Administrator"): keys, grants, ciphertexts. Every action
  gets an example body that names them, so the examples phase reaches each action's
  success path for the administrator and its 200 body is checked against the schema.
- GRANTEE_ID (bob, who holds no KMS permission) gets a grant of describe-key,
  encrypt-data and decrypt-data on the examples' key, so a run as that user reaches
  those success paths through the grant, and every other action's refusal
  (403 KMS.0306 on a key, KMS.0307 on no key), which the document must describe.
  Generated cases mostly name keys that do not exist (404) or break a rule (400).
"""

import base64
import hashlib
import os
import json
import sys
import urllib.request

base, token, project, grantee, out = sys.argv[1:]
# Names are unique per run: run.sh prepares a second document, on fresh keys, for bob's pass.
run = os.urandom(4).hex()


def call(action, body):
    request = urllib.request.Request(
        f"{base}/v1.0/{project}/kms/{action}",
        data=json.dumps(body).encode(),
        headers={"X-Auth-Token": token, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


key = call("create-key", {"key_alias": f"schemathesis-{run}"})["key_info"]["key_id"]
# State changes get their own key, so they do not disable the one the crypto examples use.
other = call("create-key", {"key_alias": f"schemathesis-states-{run}"})["key_info"]["key_id"]

def grant(operations):
    return call("create-grant", {"key_id": key, "grantee_principal": grantee, "operations": operations})["grant_id"]


# One grant each for the revoke and retire examples, so both reach their success path
# (alice revokes as the key's creator, retires as the grant's issuer); the grantee's
# working grant is named by no example, so neither removes it.
revocable, retirable = grant(["describe-key"]), grant(["describe-key"])
grant(["describe-key", "encrypt-data", "decrypt-data"])
cipher = call("encrypt-data", {"key_id": key, "plain_text": "hello"})["cipher_text"]
datakey = call("create-datakey", {"key_id": key, "datakey_length": "128"})["cipher_text"]
dek = bytes(range(16))
# A key pair and an HMAC key for the signing and MAC examples, with a real signature and MAC.
signer = call("create-key", {"key_alias": f"schemathesis-signer-{run}", "key_spec": "EC_P256"})["key_info"]["key_id"]
mac_key = call("create-key", {"key_alias": f"schemathesis-mac-{run}", "key_spec": "HMAC_256"})["key_info"]["key_id"]
digest = base64.b64encode(hashlib.sha256(b"schemathesis").digest()).decode()
signature = call("sign", {"key_id": signer, "message": digest, "signing_algorithm": "ECDSA_SHA_256"})["signature"]
message = base64.b64encode(b"schemathesis").decode()
mac = call("generate-mac", {"key_id": mac_key, "mac_algorithm": "HMAC_SHA_256", "message": message})["mac"]
# A key-agreement key and another key pair's public key (SubjectPublicKeyInfo DER, Base64)
# for derive-shared-secret; a ciphertext of the crypto key for re-encrypt.
agreer = call("create-key", {"key_alias": f"schemathesis-agree-{run}", "key_spec": "EC_P256",
                             "key_usage": "KEY_AGREEMENT"})["key_info"]["key_id"]
peer = call("create-key", {"key_alias": f"schemathesis-peer-{run}", "key_spec": "EC_P256",
                           "key_usage": "KEY_AGREEMENT"})["key_info"]["key_id"]
pem = call("get-publickey", {"key_id": peer})["public_key"]
peer_public = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
# An RSA encryption key and a ciphertext of it, for re-encrypt from a key pair (the service
# call AWS ReEncrypt uses) to the managed symmetric key.
encrypter = call("create-key", {"key_alias": f"schemathesis-rsa-{run}", "key_spec": "RSA_2048",
                                "key_usage": "ENCRYPT_DECRYPT"})["key_info"]["key_id"]
rsa_cipher = call("encrypt-data", {"key_id": encrypter, "plain_text": "hello",
                                   "encryption_algorithm": "RSAES_OAEP_SHA_256"})["cipher_text"]
# A key for tag, alias and rotation examples, so they change neither examples' key.
managed = call("create-key", {"key_alias": f"schemathesis-managed-{run}"})["key_info"]["key_id"]
call("aliases", {"key_id": managed, "alias": f"schemathesis-alias-{run}"})



def der_items(data):
    """The (tag, content) items of a DER sequence's content."""
    items, at = [], 0
    while at < len(data):
        tag, length = data[at], data[at + 1]
        at += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[at:at + count], "big")
            at += count
        items.append((tag, data[at:at + length]))
        at += length
    return items


def oaep_sha256(spki_der, message):
    """RSAES-OAEP-SHA-256 (RFC 8017, empty label) with the standard library only: what an
    import client does with get-parameters-for-import's public key."""
    (_, spki), = der_items(spki_der)
    _, bits = der_items(spki)[1]
    (_, rsa_key), = der_items(bits[1:])
    (_, n), (_, e) = der_items(rsa_key)
    n, e = int.from_bytes(n, "big"), int.from_bytes(e, "big")
    k = (n.bit_length() + 7) // 8

    def mgf1(seed, length):
        out = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(length // 32 + 1))
        return out[:length]

    h = hashlib.sha256(b"").digest()
    block = h + b"\0" * (k - len(message) - 66) + b"\1" + message
    seed = os.urandom(32)
    masked = bytes(a ^ b for a, b in zip(block, mgf1(seed, k - 33)))
    masked_seed = bytes(a ^ b for a, b in zip(seed, mgf1(masked, 32)))
    encoded = int.from_bytes(b"\0" + masked_seed + masked, "big")
    return pow(encoded, e, n).to_bytes(k, "big")


def import_example(key_id, material):
    """A get-parameters-for-import answer and the import-key-material body it allows."""
    parameters = call("get-parameters-for-import", {"key_id": key_id, "wrapping_algorithm": "RSAES_OAEP_SHA_256"})
    wrapped = oaep_sha256(base64.b64decode(parameters["public_key"]), material)
    return {"key_id": key_id, "import_token": parameters["import_token"],
            "encrypted_key_material": base64.b64encode(wrapped).decode()}


# External keys for the import examples: one pending import (the import example's), one
# whose material is imported here (the deletion example's).
# Trusted key spaces: a policy (its ID fills key-policies/{policy_id}) and a capsule to open.
keyspace = "6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
policy_document = json.dumps({"version": "1.0", "allowed_access_point": ["ap-schemathesis"]})
policy_id = call("key-policies", {"keyspace_id": keyspace, "policy_name": f"schemathesis-{run}",
                                  "policy": policy_document})["policy_id"]
capsule = call("datakey-capsule/create", {"key_id": key, "datakey_length": "256",
                                          "policy_id": policy_id})["datakey_capsule"]

pending = call("create-key", {"key_alias": f"schemathesis-byok-{run}", "origin": "external"})["key_info"]["key_id"]
imported = call("create-key", {"key_alias": f"schemathesis-byok-in-{run}", "origin": "external"})["key_info"]["key_id"]
call("import-key-material", import_example(imported, os.urandom(32)))

examples = {
    "create-key": {"key_alias": f"schemathesis-example-{run}", "key_description": "made by schemathesis",
                   "key_spec": "SM4"},
    "describe-key": {"key_id": key},
    "list-keys": {"limit": "10", "key_state": "2"},
    "create-grant": {"key_id": key, "grantee_principal": "ca401000000000000000000000000003",
                     "operations": ["describe-key", "retire-grant"], "name": "st",
                     "retiring_principal": "ca401000000000000000000000000003"},
    "list-grants": {"key_id": key, "limit": 5},
    "list-retirable-grants": {"limit": "10"},
    "revoke-grant": {"key_id": key, "grant_id": revocable},
    "retire-grant": {"key_id": key, "grant_id": retirable},
    "disable-key": {"key_id": other},
    "enable-key": {"key_id": other},
    "schedule-key-deletion": {"key_id": other, "pending_days": "7"},
    "cancel-key-deletion": {"key_id": other},
    "encrypt-data": {"key_id": key, "plain_text": "hello", "encryption_context": {"purpose": "test"}},
    "decrypt-data": {"cipher_text": cipher},
    "create-datakey": {"key_id": key, "key_spec": "SM4"},
    "create-datakey-without-plaintext": {"key_id": key, "datakey_length": 256},
    "encrypt-datakey": {"key_id": key, "plain_text": (dek + hashlib.sha256(dek).digest()).hex().upper(),
                        "datakey_plain_length": "16"},
    "decrypt-datakey": {"key_id": key, "cipher_text": datakey, "datakey_cipher_length": "16"},
    "gen-random": {"random_data_length": "512"},
    "sign": {"key_id": signer, "message": digest, "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"},
    "verify": {"key_id": signer, "message": digest, "signature": signature, "signing_algorithm": "ECDSA_SHA_256"},
    "get-publickey": {"key_id": signer},
    "update-key-description": {"key_id": other, "key_description": "described by schemathesis"},
    "generate-mac": {"key_id": mac_key, "mac_algorithm": "HMAC_SHA_256", "message": message},
    "verify-mac": {"key_id": mac_key, "mac_algorithm": "HMAC_SHA_256", "message": message, "mac": mac},
    "create-rsa-datakey-pair": {"key_id": key, "key_spec": "RSA_2048", "with_plain_text": True},
    "create-ec-datakey-pair": {"key_id": key, "key_spec": "ECC_NIST_P256", "with_plain_text": False},
    "derive-shared-secret": {"key_id": agreer, "key_agreement_algorithm": "ECDH", "public_key": peer_public},
    "enable-key-rotation": {"key_id": managed},
    "disable-key-rotation": {"key_id": managed},
    "update-key-rotation-interval": {"key_id": managed, "rotation_interval": 90},
    "get-key-rotation-status": {"key_id": managed},
    "rotate-on-demand": {"key_id": managed},
    "re-encrypt": {"cipher_text": rsa_cipher, "source_key_id": encrypter,
                   "source_encryption_algorithm": "RSAES_OAEP_SHA_256", "destination_key_id": managed},
    "aliases": {"key_id": managed, "alias": f"schemathesis-example-alias-{run}"},
    "alias/associate": {"alias": f"schemathesis-alias-{run}", "target_key_id": managed},
    "update-key-alias": {"key_id": managed, "key_alias": f"schemathesis-renamed-{run}"},
    "get-parameters-for-import": {"key_id": pending, "wrapping_algorithm": "RSAES_OAEP_SHA_256"},
    "import-key-material": import_example(pending, os.urandom(32)),
    "delete-imported-key-material": {"key_id": imported},
    "key-policies": {"keyspace_id": keyspace, "policy_name": f"schemathesis-example-{run}",
                     "policy": policy_document, "description": "made by schemathesis"},
    "datakey-capsule/create": {"key_id": key, "datakey_length": "256", "policy_id": policy_id},
    "datakey-capsule/decrypt": {"key_id": key, "datakey_capsule": capsule,
                                "attestation_document": {"service_token": "ap-schemathesis"}},
    "{key_id}/tags": {"tag": {"key": "env", "value": "test"}},
    "{key_id}/tags/action": {"action": "create", "tags": [{"key": "team", "value": "orders"}]},
    "resource_instances/action": {"action": "filter", "limit": "10", "offset": "0",
                                  "tags": [{"key": "env", "values": ["test"]}]},
}

with urllib.request.urlopen(f"{base}/openapi.json") as response:
    doc = json.load(response)
prefix = "/v1.0/{project_id}/kms/"
# The v2 paths: GET regions (ListSupportRegions), which takes no body, and the multi-Region
# key operations on the tag examples' key. That key is a single-Region one and run.sh serves
# one region, so replicate and update-primary-region reach their refusal (400 KMS.0308),
# which the document must describe; tests/api/multi_region.rs covers their success paths.
v2_prefix = "/v2/{project_id}/kms/"
v2_examples = {
    "replicate": {"key_id": managed, "replica_region": "eu-nl", "key_alias": f"schemathesis-replica-{run}",
                  "key_description": "replica", "replica_project_id": project,
                  "tags": [{"key": "env", "value": "test"}]},
    "update-primary-region": {"key_id": managed, "primary_region": "eu-nl"},
}
paths = {}
for path, item in doc["paths"].items():
    if path.startswith(v2_prefix):
        item.pop("parameters", None)
        operation = path.rsplit("/", 1)[-1]
        for method in ("post", "put"):
            if method in item:
                item[method]["requestBody"]["content"]["application/json"]["example"] = v2_examples[operation]
        paths[path.replace("{project_id}", project).replace("{key_id}", managed)] = item
        continue
    if path.startswith(prefix):
        action = path[len(prefix):]
        # The project is fixed below; a key in the path is the tag examples' key, so the
        # examples phase reaches the tag actions' success paths. Other path parameters
        # ({key}, a tag key) stay for schemathesis to generate.
        item["parameters"] = [
            p for p in item.get("parameters", [])
            if p.get("$ref") != "#/components/parameters/ProjectId"
            and p.get("name") not in ("key_id", "policy_id")
        ]
        if not item["parameters"]:
            del item["parameters"]
        if "post" not in item:
            # GET actions (user-quotas, user-instances) take no body.
            paths[path.replace("{project_id}", project).replace("{key_id}", managed)
                  .replace("{policy_id}", policy_id)] = item
            continue
        if action not in examples:
            sys.exit(f"prepare.py: no example for {action}; add one")
        media = item["post"]["requestBody"]["content"]["application/json"]
        media["example"] = examples[action]
        path = path.replace("{project_id}", project)
    paths[path.replace("{key_id}", managed)] = item
doc["paths"] = paths
with open(out, "w") as f:
    json.dump(doc, f)
print(f"prepared {len(examples)} example bodies on keys {key} and {other}")
