//! SM4 keys (Huawei `key_spec: SM4`, issue 12) and re-encryption from and to key pairs, over
//! HTTP in both dialects: SM4-GCM round trips (AWS sees the key as SYMMETRIC_DEFAULT), data
//! keys with their SM3 digests, rotation, snapshots and seeds of SM4 keys, a ciphertext made
//! outside the emulator with a published SM4-GCM implementation, and re-encrypt / ReEncrypt
//! between RSAES-OAEP, SM2 and symmetric keys with the refusals of a wrong algorithm or usage.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sm3::Digest as _;

use crate::helpers::aws::{AWS_ALICE, aws, aws_refused};
use crate::helpers::{ALICE, Reply, TestApp};

const SEEDED_SM4_KEY: &str = "5eed0000-0000-4000-8000-0000000000b4";

/// encrypt-data of "sm4 fixture" under the seeded SM4 key (material 00 01 .. 0f), made with
/// Python's `cryptography` (OpenSSL's SM4-GCM) and the frame layout, not by the emulator:
/// it opens only if the emulator's SM4-GCM is the standard one.
const SM4_FIXTURE: &str = "AgAATwABAgMEBQYHCAkKC+Qr6tuvA/10iu4RJlYLi54LeT6v15nb70ZSyjVlZWQwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBiNAAAAAA/Ij18+DynRQLE8XcPrd/Ec/F2yFNcP0P9g2nP1x60ag==";

async fn huawei_key(app: &TestApp, alias: &str, spec: &str, usage: &str) -> String {
    let created = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": alias, "key_spec": spec, "key_usage": usage}),
        )
        .await;
    created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn encrypt(app: &TestApp, body: Value) -> String {
    let reply = app.call(ALICE, "encrypt-data", body).await;
    reply.ok()["cipher_text"].as_str().unwrap().to_owned()
}

async fn decrypt(app: &TestApp, body: Value) -> String {
    let reply = app.call(ALICE, "decrypt-data", body).await;
    reply.ok()["plain_text"].as_str().unwrap().to_owned()
}

async fn re_encrypt(app: &TestApp, body: Value) -> Reply {
    app.call(ALICE, "re-encrypt", body).await
}

/// The material version a Base64 frame names (the 4 bytes before the checksum).
fn frame_version(cipher_b64: &str) -> u32 {
    let frame = BASE64.decode(cipher_b64).unwrap();
    let at = frame.len() - 32 - 4;
    u32::from_be_bytes(frame[at..at + 4].try_into().unwrap())
}

/// An SM4 key is a symmetric ENCRYPT_DECRYPT key in both dialects; ciphertexts cross them.
async fn sm4_keys_encrypt_and_decrypt_in_both_dialects(app: &TestApp) {
    let key_id = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "sm4", "key_spec": "SM4"}),
        )
        .await
        .ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_spec"], "SM4");
    assert_eq!(described.ok()["key_info"]["key_usage"], "ENCRYPT_DECRYPT");
    let metadata = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": key_id})).await;
    let metadata = &metadata.ok()["KeyMetadata"];
    assert_eq!(metadata["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(
        metadata["EncryptionAlgorithms"],
        json!(["SYMMETRIC_DEFAULT"])
    );

    let cipher = encrypt(
        app,
        json!({"key_id": key_id, "plain_text": "guo mi", "encryption_algorithm": "SYMMETRIC_DEFAULT",
               "additional_authenticated_data": "aad"}),
    )
    .await;
    assert_eq!(
        decrypt(
            app,
            json!({"cipher_text": cipher, "additional_authenticated_data": "aad"})
        )
        .await,
        "guo mi"
    );
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.2201");

    // AWS opens the Huawei ciphertext, and the other way round.
    let plain = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": encrypt(app, json!({"key_id": key_id, "plain_text": "x"})).await}),
    )
    .await;
    assert_eq!(plain.ok()["Plaintext"], BASE64.encode("x"));
    assert_eq!(plain.ok()["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let sealed = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": BASE64.encode("from aws"), "EncryptionContext": {"a": "b"}}),
    )
    .await;
    let blob = sealed.ok()["CiphertextBlob"].as_str().unwrap().to_owned();
    assert_eq!(
        decrypt(
            app,
            json!({"cipher_text": blob, "encryption_context": {"a": "b"}})
        )
        .await,
        "from aws"
    );

    // Key pair algorithms are refused for an SM4 key.
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x", "encryption_algorithm": "SM2_ENCRYPT"}),
    )
    .await
    .error(400, "KMS.0308");
    aws_refused(app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": key_id, "Plaintext": BASE64.encode("x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "InvalidKeyUsageException").await;
    // SIGN_VERIFY is not a usage of SM4 keys.
    app.call(
        ALICE,
        "create-key",
        json!({"key_alias": "sm4-sign", "key_spec": "SM4", "key_usage": "SIGN_VERIFY"}),
    )
    .await
    .error(400, "KMS.0308");
}

/// Data keys under an SM4 key: lengths as for AES keys (256 bits by default, `key_spec`
/// SM4 is 128 bits), and the digest beside a data key is SM3 (SHA-256 for AES keys).
async fn sm4_data_keys(app: &TestApp) {
    let key_id = huawei_key(app, "sm4-dek", "SM4", "ENCRYPT_DECRYPT").await;
    let aes = app.create_key(ALICE, "aes-dek").await;
    let made = |body: Value| async move {
        let reply = app.call(ALICE, "create-datakey", body).await;
        reply.ok().clone()
    };
    let default = made(json!({"key_id": key_id})).await;
    assert_eq!(default["plain_text"].as_str().unwrap().len(), 64);
    let sm4 = made(json!({"key_id": key_id, "key_spec": "SM4"})).await;
    assert_eq!(sm4["plain_text"].as_str().unwrap().len(), 32);
    let long = made(json!({"key_id": key_id, "datakey_length": "512"})).await;
    assert_eq!(long["plain_text"].as_str().unwrap().len(), 128);
    app.call(
        ALICE,
        "create-datakey",
        json!({"key_id": key_id, "key_spec": "SM5"}),
    )
    .await
    .error(400, "KMS.1902");
    let without = app
        .call(
            ALICE,
            "create-datakey-without-plaintext",
            json!({"key_id": key_id, "key_spec": "AES_128"}),
        )
        .await;
    let without = without.ok()["cipher_text"].as_str().unwrap().to_owned();

    // decrypt-datakey answers the SM3 digest of the data key.
    let data_key = hex::decode(sm4["plain_text"].as_str().unwrap());
    let opened = app
        .call(
            ALICE,
            "decrypt-datakey",
            json!({"key_id": key_id, "cipher_text": sm4["cipher_text"], "datakey_cipher_length": "16"}),
        )
        .await;
    assert_eq!(opened.ok()["data_key"], sm4["plain_text"]);
    assert_eq!(
        opened.ok()["datakey_dgst"],
        hex::upper(&sm3::Sm3::digest(&data_key))
    );
    app.call(
        ALICE,
        "decrypt-datakey",
        json!({"key_id": key_id, "cipher_text": without, "datakey_cipher_length": "16"}),
    )
    .await
    .ok();

    // encrypt-datakey takes the data key with its SM3 digest; a SHA-256 one is refused,
    // and an AES key wants SHA-256.
    let dek = [7_u8; 32];
    let with_sm3 = format!("{}{}", hex::upper(&dek), hex::upper(&sm3::Sm3::digest(dek)));
    let with_sha256 = format!("{}{}", hex::upper(&dek), hex::upper(&sha256(&dek)));
    let sealed = app
        .call(
            ALICE,
            "encrypt-datakey",
            json!({"key_id": key_id, "plain_text": with_sm3, "datakey_plain_length": "32"}),
        )
        .await;
    let cipher_text = sealed.ok()["cipher_text"].as_str().unwrap().to_owned();
    let opened = app
        .call(
            ALICE,
            "decrypt-datakey",
            json!({"key_id": key_id, "cipher_text": cipher_text, "datakey_cipher_length": "32"}),
        )
        .await;
    assert_eq!(opened.ok()["data_key"], hex::upper(&dek));
    app.call(
        ALICE,
        "encrypt-datakey",
        json!({"key_id": key_id, "plain_text": with_sha256, "datakey_plain_length": "32"}),
    )
    .await
    .error(400, "KMS.2103");
    app.call(
        ALICE,
        "encrypt-datakey",
        json!({"key_id": aes, "plain_text": with_sm3, "datakey_plain_length": "32"}),
    )
    .await
    .error(400, "KMS.2103");
    app.call(
        ALICE,
        "encrypt-datakey",
        json!({"key_id": aes, "plain_text": with_sha256, "datakey_plain_length": "32"}),
    )
    .await
    .ok();

    // AWS data keys under the SM4 key.
    let generated = aws(
        app,
        AWS_ALICE,
        "GenerateDataKey",
        json!({"KeyId": key_id, "KeySpec": "AES_128"}),
    )
    .await;
    let plaintext = generated.ok()["Plaintext"].as_str().unwrap().to_owned();
    assert_eq!(BASE64.decode(&plaintext).unwrap().len(), 16);
    let opened = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": generated.ok()["CiphertextBlob"]}),
    )
    .await;
    assert_eq!(opened.ok()["Plaintext"], plaintext);
}

/// An SM4 key rotates: new ciphertexts use the new material, old ones still open, and
/// re-encrypt moves an old ciphertext to the newest material.
async fn sm4_keys_rotate(app: &TestApp) {
    let key_id = huawei_key(app, "sm4-rotating", "SM4", "ENCRYPT_DECRYPT").await;
    let old = encrypt(app, json!({"key_id": key_id, "plain_text": "before"})).await;
    app.call(ALICE, "enable-key-rotation", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .ok();
    let status = app
        .call(ALICE, "get-key-rotation-status", json!({"key_id": key_id}))
        .await;
    assert_eq!(status.ok()["key_rotation_enabled"], true);
    assert_eq!(status.ok()["number_of_rotations"], 1);
    let new = encrypt(app, json!({"key_id": key_id, "plain_text": "after"})).await;
    assert_eq!((frame_version(&old), frame_version(&new)), (0, 1));
    assert_eq!(decrypt(app, json!({"cipher_text": old})).await, "before");
    assert_eq!(decrypt(app, json!({"cipher_text": new})).await, "after");
    let moved = re_encrypt(
        app,
        json!({"cipher_text": old, "destination_key_id": key_id}),
    )
    .await;
    let moved = moved.ok()["cipher_text"].as_str().unwrap().to_owned();
    assert_eq!(frame_version(&moved), 1);
    assert_eq!(decrypt(app, json!({"cipher_text": moved})).await, "before");
}

async fn operator(app: &TestApp, method: reqwest::Method, body: Option<&Value>) -> Reply {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    app.raw(
        method,
        "/_emulator/snapshot",
        &[("content-type", "application/json")],
        body,
    )
    .await
}

/// A snapshot keeps an SM4 key and its rotated material: its ciphertexts open after an import.
async fn snapshots_keep_sm4_keys(app: &TestApp) {
    let key_id = huawei_key(app, "sm4-snap", "SM4", "ENCRYPT_DECRYPT").await;
    let old = encrypt(app, json!({"key_id": key_id, "plain_text": "v0"})).await;
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .ok();
    let new = encrypt(app, json!({"key_id": key_id, "plain_text": "v1"})).await;
    let snapshot = operator(app, reqwest::Method::GET, None).await.ok().clone();
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key_id, "pending_days": "7"}),
    )
    .await
    .ok();
    operator(app, reqwest::Method::POST, Some(&snapshot))
        .await
        .ok();
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_spec"], "SM4");
    assert_eq!(described.ok()["key_info"]["key_state"], "2");
    assert_eq!(decrypt(app, json!({"cipher_text": old})).await, "v0");
    assert_eq!(decrypt(app, json!({"cipher_text": new})).await, "v1");
}

fn sm4_seed(config: &mut kms_emulator::Config) {
    let seed = json!({"keys": [{
        "key_id": SEEDED_SM4_KEY, "owner": "alice", "alias": "seed-sm4", "key_spec": "SM4",
        "material_hex": "000102030405060708090a0b0c0d0e0f",
    }]});
    let dir: PathBuf =
        std::env::temp_dir().join(format!("kms-sm4-seed-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    config.seed = Some(path);
}

/// A seeded SM4 key (16 bytes of material) opens a ciphertext made outside the emulator
/// with OpenSSL's SM4-GCM, and encrypts anew.
async fn seeded_sm4_keys_open_standard_sm4_gcm(app: &TestApp) {
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": SEEDED_SM4_KEY}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_spec"], "SM4");
    assert_eq!(
        decrypt(app, json!({"cipher_text": SM4_FIXTURE})).await,
        "sm4 fixture"
    );
    let cipher = encrypt(
        app,
        json!({"key_id": SEEDED_SM4_KEY, "plain_text": "again"}),
    )
    .await;
    assert_eq!(decrypt(app, json!({"cipher_text": cipher})).await, "again");
}

/// Huawei re-encrypt from a key pair's ciphertext to a symmetric key and back, with RSA
/// (both OAEP hashes) and SM2, and the refusals of a wrong algorithm, usage or key.
async fn huawei_re_encrypt_between_key_pairs_and_symmetric_keys(app: &TestApp) {
    let rsa = huawei_key(app, "rsa-enc", "RSA_2048", "ENCRYPT_DECRYPT").await;
    let sm2 = huawei_key(app, "sm2-enc", "SM2", "ENCRYPT_DECRYPT").await;
    let aes = app.create_key(ALICE, "aes-target").await;
    let sm4 = huawei_key(app, "sm4-target", "SM4", "ENCRYPT_DECRYPT").await;

    // RSA -> AES.
    let rsa_cipher = encrypt(
        app,
        json!({"key_id": rsa, "plain_text": "from rsa", "encryption_algorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await;
    let moved = re_encrypt(
        app,
        json!({"cipher_text": rsa_cipher, "source_key_id": rsa,
               "source_encryption_algorithm": "RSAES_OAEP_SHA_256", "destination_key_id": aes,
               "destination_additional_authenticated_data": "to-aes"}),
    )
    .await;
    let moved = moved.ok().clone();
    assert_eq!(moved["source_key_id"], rsa.as_str());
    assert_eq!(moved["key_id"], aes.as_str());
    assert_eq!(moved["source_encryption_algorithm"], "RSAES_OAEP_SHA_256");
    assert_eq!(
        moved["destination_encryption_algorithm"],
        "SYMMETRIC_DEFAULT"
    );
    assert_eq!(
        decrypt(
            app,
            json!({"cipher_text": moved["cipher_text"], "additional_authenticated_data": "to-aes"})
        )
        .await,
        "from rsa"
    );

    // AES -> RSA (OAEP SHA-1) and back to SM4.
    let back = re_encrypt(
        app,
        json!({"cipher_text": moved["cipher_text"], "source_additional_authenticated_data": "to-aes",
               "destination_key_id": rsa, "destination_encryption_algorithm": "RSAES_OAEP_SHA_1"}),
    )
    .await;
    let back = back.ok().clone();
    assert_eq!(back["source_key_id"], aes.as_str());
    assert_eq!(back["destination_encryption_algorithm"], "RSAES_OAEP_SHA_1");
    assert_eq!(
        decrypt(
            app,
            json!({"cipher_text": back["cipher_text"], "key_id": rsa,
                   "encryption_algorithm": "RSAES_OAEP_SHA_1"})
        )
        .await,
        "from rsa"
    );

    // SM4 -> SM2 -> SM4.
    let sm4_cipher = encrypt(app, json!({"key_id": sm4, "plain_text": "guo mi"})).await;
    let to_sm2 = re_encrypt(
        app,
        json!({"cipher_text": sm4_cipher, "destination_key_id": sm2,
               "destination_encryption_algorithm": "SM2_ENCRYPT"}),
    )
    .await;
    let sm2_cipher = to_sm2.ok()["cipher_text"].as_str().unwrap().to_owned();
    let to_sm4 = re_encrypt(
        app,
        json!({"cipher_text": sm2_cipher, "source_key_id": sm2,
               "source_encryption_algorithm": "SM2_ENCRYPT", "destination_key_id": sm4}),
    )
    .await;
    assert_eq!(
        decrypt(app, json!({"cipher_text": to_sm4.ok()["cipher_text"]})).await,
        "guo mi"
    );

    // Refusals.
    let refused = |body: Value, code: &'static str| async move {
        re_encrypt(app, body).await.error(400, code);
    };
    // A key pair's ciphertext needs its key named.
    refused(
        json!({"cipher_text": rsa_cipher, "source_encryption_algorithm": "RSAES_OAEP_SHA_256",
               "destination_key_id": aes}),
        "KMS.0204",
    )
    .await;
    // An algorithm the source key does not have.
    refused(
        json!({"cipher_text": rsa_cipher, "source_key_id": rsa,
               "source_encryption_algorithm": "SM2_ENCRYPT", "destination_key_id": aes}),
        "KMS.0308",
    )
    .await;
    // The wrong OAEP hash does not open the ciphertext.
    refused(
        json!({"cipher_text": rsa_cipher, "source_key_id": rsa,
               "source_encryption_algorithm": "RSAES_OAEP_SHA_1", "destination_key_id": aes}),
        "KMS.2201",
    )
    .await;
    // A key pair's ciphertext is no frame.
    refused(
        json!({"cipher_text": rsa_cipher, "source_key_id": rsa, "destination_key_id": aes}),
        "KMS.2201",
    )
    .await;
    // A key pair destination needs a key pair algorithm, and a symmetric one none.
    refused(
        json!({"cipher_text": sm4_cipher, "destination_key_id": rsa}),
        "KMS.0308",
    )
    .await;
    refused(
        json!({"cipher_text": sm4_cipher, "destination_key_id": sm4,
               "destination_encryption_algorithm": "RSAES_OAEP_SHA_256"}),
        "KMS.0308",
    )
    .await;
    refused(
        json!({"cipher_text": sm4_cipher, "destination_key_id": sm2,
               "destination_encryption_algorithm": "RSA_PKCS1"}),
        "KMS.0308",
    )
    .await;
    // A SIGN_VERIFY key pair encrypts nothing.
    let signing = huawei_key(app, "rsa-sign", "RSA_2048", "SIGN_VERIFY").await;
    refused(
        json!({"cipher_text": sm4_cipher, "destination_key_id": signing,
               "destination_encryption_algorithm": "RSAES_OAEP_SHA_256"}),
        "KMS.0335",
    )
    .await;
    // Key pairs take no additional data.
    refused(
        json!({"cipher_text": sm4_cipher, "destination_key_id": sm2,
               "destination_encryption_algorithm": "SM2_ENCRYPT",
               "destination_additional_authenticated_data": "x"}),
        "KMS.0308",
    )
    .await;
}

/// AWS ReEncrypt between key pairs and symmetric keys, through the same service call.
async fn aws_re_encrypt_between_key_pairs_and_symmetric_keys(app: &TestApp) {
    let create = |spec: &'static str| async move {
        let created = aws(
            app,
            AWS_ALICE,
            "CreateKey",
            json!({"KeySpec": spec, "KeyUsage": "ENCRYPT_DECRYPT"}),
        )
        .await;
        created.ok()["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rsa = create("RSA_3072").await;
    let sm2 = create("SM2").await;
    let symmetric = create("SYMMETRIC_DEFAULT").await;
    let sealed = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": rsa, "Plaintext": BASE64.encode("pair"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
    )
    .await;
    let blob = sealed.ok()["CiphertextBlob"].as_str().unwrap().to_owned();
    let moved = aws(
        app,
        AWS_ALICE,
        "ReEncrypt",
        json!({"CiphertextBlob": blob, "SourceKeyId": rsa, "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_1",
               "DestinationKeyId": sm2, "DestinationEncryptionAlgorithm": "SM2PKE"}),
    )
    .await;
    let moved = moved.ok().clone();
    assert_eq!(moved["SourceEncryptionAlgorithm"], "RSAES_OAEP_SHA_1");
    assert_eq!(moved["DestinationEncryptionAlgorithm"], "SM2PKE");
    let to_symmetric = aws(
        app,
        AWS_ALICE,
        "ReEncrypt",
        json!({"CiphertextBlob": moved["CiphertextBlob"], "SourceKeyId": sm2,
               "SourceEncryptionAlgorithm": "SM2PKE", "DestinationKeyId": symmetric}),
    )
    .await;
    let opened = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": to_symmetric.ok()["CiphertextBlob"]}),
    )
    .await;
    assert_eq!(opened.ok()["Plaintext"], BASE64.encode("pair"));
    aws_refused(
        app,
        AWS_ALICE,
        "ReEncrypt",
        json!({"CiphertextBlob": blob, "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_1",
                   "DestinationKeyId": symmetric}),
        "ValidationException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "ReEncrypt",
        json!({"CiphertextBlob": blob, "SourceKeyId": rsa, "SourceEncryptionAlgorithm": "SM2PKE",
                   "DestinationKeyId": symmetric}),
        "InvalidKeyUsageException",
    )
    .await;
    aws_refused(app,
            AWS_ALICE,
            "ReEncrypt",
            json!({"CiphertextBlob": blob, "SourceKeyId": rsa, "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_1",
                   "DestinationKeyId": rsa, "DestinationEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
                   "DryRun": true}), "DryRunOperationException").await;
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}

/// Upper-case hex, as the Huawei dialect writes data keys, and its reading.
mod hex {
    pub fn upper(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    pub fn decode(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

crate::on_every_backend!(
    sm4_keys_encrypt_and_decrypt_in_both_dialects,
    sm4_data_keys,
    sm4_keys_rotate,
    snapshots_keep_sm4_keys,
    huawei_re_encrypt_between_key_pairs_and_symmetric_keys,
    aws_re_encrypt_between_key_pairs_and_symmetric_keys,
);

mod seeded {
    crate::on_every_backend!(
        with_config = super::sm4_seed;
        seeded_sm4_keys_open_standard_sm4_gcm
    );

    use super::{seeded_sm4_keys_open_standard_sm4_gcm, sm4_seed};
}
