//! Key pairs that encrypt: RSAES-OAEP and SM2 public-key encryption through AWS Encrypt /
//! Decrypt and Huawei encrypt-data / decrypt-data, the algorithm and size refusals, the
//! key states, and who may use them (grants, read-only users, users without rights).

use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, AWS_BOB, AWS_DAVE, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, BOB, DAVE, TestApp};

const BASE64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

async fn aws_key(app: &TestApp, spec: &str, usage: &str) -> String {
    let created = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": spec, "KeyUsage": usage}),
    )
    .await;
    created.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn blob(value: &Value, field: &str) -> Vec<u8> {
    BASE64
        .decode(
            value[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} in {value}")),
        )
        .unwrap()
}

async fn aws_rsa_encrypts_and_decrypts_with_oaep(app: &TestApp) {
    let key = aws_key(app, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": key})).await;
    assert_eq!(
        described.ok()["KeyMetadata"]["EncryptionAlgorithms"],
        json!(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
    );
    let plaintext = BASE64.encode(b"a secret for the key pair");
    for algorithm in ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] {
        let encrypted = aws(
            app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}),
        )
        .await;
        assert_eq!(encrypted.ok()["EncryptionAlgorithm"], algorithm);
        let ciphertext = blob(encrypted.ok(), "CiphertextBlob");
        // Bare RSA-OAEP output: one modulus long, no frame.
        assert_eq!(ciphertext.len(), 256);
        let decrypted = aws(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": BASE64.encode(&ciphertext), "EncryptionAlgorithm": algorithm})).await;
        assert_eq!(decrypted.ok()["Plaintext"], plaintext);
        assert_eq!(decrypted.ok()["EncryptionAlgorithm"], algorithm);
        assert!(decrypted.ok()["KeyId"].as_str().unwrap().ends_with(&key));
        // Asymmetric ciphertexts need the KeyId.
        aws_refused(
            app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": BASE64.encode(&ciphertext), "EncryptionAlgorithm": algorithm}),
            "ValidationException",
        )
        .await;
    }
    // Made with SHA-256, opened with SHA-1: it does not open.
    let encrypted = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await;
    let ciphertext = encrypted.ok()["CiphertextBlob"].clone();
    aws_refused(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": ciphertext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}), "InvalidCiphertextException").await;
    // Without an algorithm, Decrypt reads a symmetric frame: this is none.
    let plain_decrypt = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"KeyId": key, "CiphertextBlob": ciphertext}),
    )
    .await;
    assert!(
        plain_decrypt.status >= 400 && plain_decrypt.status < 500,
        "{}",
        plain_decrypt.raw
    );

    // A ciphertext made offline with the public key from GetPublicKey opens here.
    let public = aws(app, AWS_ALICE, "GetPublicKey", json!({"KeyId": key})).await;
    assert_eq!(
        public.ok()["EncryptionAlgorithms"],
        json!(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
    );
    let spki = blob(public.ok(), "PublicKey");
    let rsa_public = rsa::PublicKey::from_public_key_der(&spki).unwrap();
    let offline = rsa_public
        .oaep_encrypt::<sha2_next::Sha256>(b"made offline")
        .unwrap();
    let opened = aws(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": BASE64.encode(&offline), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"})).await;
    assert_eq!(blob(opened.ok(), "Plaintext"), b"made offline");

    // The plaintext limit of the algorithm: 190 bytes for RSA_2048 with SHA-256, 214 with SHA-1.
    let at_limit = aws(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": BASE64.encode([7_u8; 190]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"})).await;
    at_limit.ok();
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": BASE64.encode([7_u8; 191]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "ValidationException").await;
    aws(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": BASE64.encode([7_u8; 214]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}))
        .await
        .ok();
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": BASE64.encode([7_u8; 215]), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}), "ValidationException").await;
    // Wrong algorithm for the key, both ways; an unknown one; a context on a key pair.
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext}),
        "InvalidKeyUsageException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "SM2PKE"}),
        "InvalidKeyUsageException",
    )
    .await;
    let symmetric = aws_key(app, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").await;
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": symmetric, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "InvalidKeyUsageException").await;
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_512"}),
        "ValidationException",
    )
    .await;
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "EncryptionContext": {"a": "b"}}), "ValidationException").await;
    let signing = aws_key(app, "RSA_2048", "SIGN_VERIFY").await;
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": signing, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "InvalidKeyUsageException").await;
    // DryRun runs the checks only.
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "DryRun": true}), "DryRunOperationException").await;
    // Key states: disabled, then pending deletion.
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key}))
        .await
        .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        "DisabledException",
    )
    .await;
    aws_refused(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": ciphertext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "DisabledException").await;
    aws(
        app,
        AWS_ALICE,
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    )
    .await
    .ok();
    aws_refused(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": ciphertext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}), "KMSInvalidStateException").await;
}

async fn aws_sm2_encrypts_with_sm2pke(app: &TestApp) {
    let key = aws_key(app, "SM2", "ENCRYPT_DECRYPT").await;
    let plaintext = BASE64.encode("国密 SM2 加密".as_bytes());
    let encrypted = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "SM2PKE"}),
    )
    .await;
    assert_eq!(encrypted.ok()["EncryptionAlgorithm"], "SM2PKE");
    let ciphertext = encrypted.ok()["CiphertextBlob"].clone();
    let decrypted = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"KeyId": key, "CiphertextBlob": ciphertext, "EncryptionAlgorithm": "SM2PKE"}),
    )
    .await;
    assert_eq!(decrypted.ok()["Plaintext"], plaintext);
    aws_refused(app, AWS_ALICE, "Encrypt", json!({"KeyId": key, "Plaintext": BASE64.encode([1_u8; 1025]), "EncryptionAlgorithm": "SM2PKE"}), "ValidationException").await;
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": plaintext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        "InvalidKeyUsageException",
    )
    .await;
    // A damaged ciphertext does not open, and the answer is not a 500.
    let mut damaged = blob(decrypted.ok(), "Plaintext");
    damaged.extend_from_slice(&[0_u8; 120]);
    aws_refused(app, AWS_ALICE, "Decrypt", json!({"KeyId": key, "CiphertextBlob": BASE64.encode(&damaged), "EncryptionAlgorithm": "SM2PKE"}), "InvalidCiphertextException").await;
}

async fn huawei_key_pairs_encrypt_data(app: &TestApp) {
    let created = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "rsa-enc", "key_spec": "RSA_3072", "key_usage": "ENCRYPT_DECRYPT"}),
        )
        .await;
    let key_id = created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let encrypted = app
        .call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "hello pairs", "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await;
    assert_eq!(encrypted.ok()["key_id"], key_id);
    let cipher_text = encrypted.ok()["cipher_text"].as_str().unwrap().to_owned();
    assert_eq!(BASE64.decode(&cipher_text).unwrap().len(), 384);
    let decrypted = app
        .call(ALICE, "decrypt-data", json!({"key_id": key_id, "cipher_text": cipher_text, "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await;
    assert_eq!(decrypted.ok()["plain_text"], "hello pairs");
    assert_eq!(decrypted.ok()["key_id"], key_id);
    // The key is required for an asymmetric ciphertext.
    app.call(
        ALICE,
        "decrypt-data",
        json!({"cipher_text": cipher_text, "encryption_algorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await
    .error(400, "KMS.0204");
    // Over the limit (318 bytes for RSA_3072 with SHA-256), an unknown algorithm, the
    // default algorithm on a key pair, and a key pair's algorithm on a symmetric key.
    app.call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "x".repeat(319), "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await
        .error(400, "KMS.0308");
    app.call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "x".repeat(318), "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await
        .ok();
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x", "encryption_algorithm": "RSA_NONSENSE"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x"}),
    )
    .await
    .error(400, "KMS.0308");
    let aes = app.create_key(ALICE, "aes-for-pairs").await;
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": aes, "plain_text": "x", "encryption_algorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "x", "encryption_algorithm": "RSAES_OAEP_SHA_256", "additional_authenticated_data": "aad"}))
        .await
        .error(400, "KMS.0308");

    // SM2 with Huawei's name for SM2PKE.
    let sm2 = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "sm2-enc", "key_spec": "SM2", "key_usage": "ENCRYPT_DECRYPT"}),
        )
        .await;
    let sm2_id = sm2.ok()["key_info"]["key_id"].as_str().unwrap().to_owned();
    let sealed = app
        .call(ALICE, "encrypt-data", json!({"key_id": sm2_id, "plain_text": "sm2 text", "encryption_algorithm": "SM2_ENCRYPT"}))
        .await;
    let sealed_text = sealed.ok()["cipher_text"].as_str().unwrap().to_owned();
    let opened = app
        .call(ALICE, "decrypt-data", json!({"key_id": sm2_id, "cipher_text": sealed_text, "encryption_algorithm": "SM2_ENCRYPT"}))
        .await;
    assert_eq!(opened.ok()["plain_text"], "sm2 text");
    // The RSA ciphertext under the SM2 key: not openable.
    app.call(ALICE, "decrypt-data", json!({"key_id": sm2_id, "cipher_text": cipher_text, "encryption_algorithm": "SM2_ENCRYPT"}))
        .await
        .error(400, "KMS.2201");

    // Key states.
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "decrypt-data", json!({"key_id": key_id, "cipher_text": cipher_text, "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await
        .error(400, "KMS.0209");
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key_id, "pending_days": "7"}),
    )
    .await
    .ok();
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x", "encryption_algorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await
    .error(400, "KMS.0210");
}

async fn who_may_encrypt_with_a_key_pair(app: &TestApp) {
    // AWS: bob has no rights, dave reads only; a grant gives bob Encrypt and Decrypt.
    let key = aws_key(app, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let encrypt_as = |who| {
        let body = json!({"KeyId": key, "Plaintext": BASE64.encode(b"granted"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"});
        async move { aws(app, who, "Encrypt", body).await }
    };
    aws_error(&encrypt_as(AWS_BOB).await, "AccessDeniedException");
    aws_error(&encrypt_as(AWS_DAVE).await, "AccessDeniedException");
    let ciphertext = encrypt_as(AWS_ALICE).await.ok()["CiphertextBlob"].clone();
    let decrypt_as = |who| {
        let body = json!({"KeyId": key, "CiphertextBlob": ciphertext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"});
        async move { aws(app, who, "Decrypt", body).await }
    };
    aws_error(&decrypt_as(AWS_BOB).await, "AccessDeniedException");
    aws_error(&decrypt_as(AWS_DAVE).await, "AccessDeniedException");
    // AWS refuses a grant for an operation the key cannot do.
    aws_refused(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["GenerateDataKey"]}),
        "ValidationException",
    )
    .await;
    let grant = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["Decrypt"]}),
    )
    .await;
    grant.ok();
    assert_eq!(
        blob(decrypt_as(AWS_BOB).await.ok(), "Plaintext"),
        b"granted"
    );
    // The grant allows Decrypt, not Encrypt.
    aws_error(&encrypt_as(AWS_BOB).await, "AccessDeniedException");

    // Huawei: the same with its grant operations.
    let created = app
        .call(ALICE, "create-key", json!({"key_alias": "rsa-granted", "key_spec": "RSA_2048", "key_usage": "ENCRYPT_DECRYPT"}))
        .await;
    let key_id = created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"key_id": key_id, "plain_text": "to bob", "encryption_algorithm": "RSAES_OAEP_SHA_256"});
    app.call(BOB, "encrypt-data", body.clone())
        .await
        .error(403, "KMS.0306");
    app.call(DAVE, "encrypt-data", body.clone())
        .await
        .error(403, "KMS.0306");
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data", "decrypt-data"]}),
    )
    .await;
    let sealed = app.call(BOB, "encrypt-data", body).await;
    let cipher_text = sealed.ok()["cipher_text"].clone();
    let opened = app
        .call(BOB, "decrypt-data", json!({"key_id": key_id, "cipher_text": cipher_text, "encryption_algorithm": "RSAES_OAEP_SHA_256"}))
        .await;
    assert_eq!(opened.ok()["plain_text"], "to bob");
}

/// The SubjectPublicKeyInfo DER of the public half of a PKCS#8 private key of `spec`.
fn public_of(spec: &str, pkcs8: &[u8]) -> Vec<u8> {
    use pkcs8::DecodePrivateKey;
    use spki::EncodePublicKey;
    let der = match spec {
        "RSA_2048" | "RSA_3072" | "RSA_4096" => rsa::PrivateKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .to_public_key()
            .to_public_key_der(),
        "ECC_NIST_P256" => p256::SecretKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .public_key()
            .to_public_key_der(),
        "ECC_NIST_P384" => p384::SecretKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .public_key()
            .to_public_key_der(),
        "ECC_NIST_P521" => p521::SecretKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .public_key()
            .to_public_key_der(),
        "ECC_SECG_P256K1" => k256::SecretKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .public_key()
            .to_public_key_der(),
        "SM2" => sm2::SecretKey::from_pkcs8_der(pkcs8)
            .unwrap()
            .public_key()
            .to_public_key_der(),
        other => panic!("no check for {other}"),
    };
    der.unwrap().as_bytes().to_vec()
}

async fn aws_generates_data_key_pairs(app: &TestApp) {
    let key = aws_key(app, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").await;
    let context = json!({"purpose": "pairs"});
    for spec in [
        "RSA_2048",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "SM2",
    ] {
        let made = aws(
            app,
            AWS_ALICE,
            "GenerateDataKeyPair",
            json!({"KeyId": key, "KeyPairSpec": spec, "EncryptionContext": context}),
        )
        .await;
        let made = made.ok();
        assert_eq!(made["KeyPairSpec"], spec);
        assert!(made["KeyId"].as_str().unwrap().ends_with(&key));
        let private = blob(made, "PrivateKeyPlaintext");
        let public = blob(made, "PublicKey");
        assert_eq!(public_of(spec, &private), public, "{spec}");
        // The private key ciphertext opens with Decrypt, under the same context only.
        let opened = aws(app, AWS_ALICE, "Decrypt", json!({"CiphertextBlob": made["PrivateKeyCiphertextBlob"], "EncryptionContext": context})).await;
        assert_eq!(blob(opened.ok(), "Plaintext"), private, "{spec}");
        aws_refused(
            app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": made["PrivateKeyCiphertextBlob"]}),
            "InvalidCiphertextException",
        )
        .await;
    }
    let bare = aws(
        app,
        AWS_ALICE,
        "GenerateDataKeyPairWithoutPlaintext",
        json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
    )
    .await;
    let bare = bare.ok();
    assert!(bare.get("PrivateKeyPlaintext").is_none(), "{bare}");
    let opened = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": bare["PrivateKeyCiphertextBlob"]}),
    )
    .await;
    assert_eq!(
        public_of("ECC_NIST_P256", &blob(opened.ok(), "Plaintext")),
        blob(bare, "PublicKey")
    );
    // Refusals: no spec, an unknown one, a key pair as the wrapping key, DryRun, states.
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": key}),
        "ValidationException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": key, "KeyPairSpec": "RSA_1024"}),
        "ValidationException",
    )
    .await;
    let rsa_key = aws_key(app, "RSA_2048", "ENCRYPT_DECRYPT").await;
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": rsa_key, "KeyPairSpec": "ECC_NIST_P256"}),
        "InvalidKeyUsageException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256", "DryRun": true}),
        "DryRunOperationException",
    )
    .await;
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key}))
        .await
        .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPairWithoutPlaintext",
        json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
        "DisabledException",
    )
    .await;
    aws(
        app,
        AWS_ALICE,
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    )
    .await
    .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
        "KMSInvalidStateException",
    )
    .await;
}

async fn who_may_generate_data_key_pairs(app: &TestApp) {
    let key = aws_key(app, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").await;
    let generate_as = |who, target: &'static str| {
        let body = json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"});
        async move { aws(app, who, target, body).await }
    };
    for target in ["GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"] {
        aws_error(&generate_as(AWS_BOB, target).await, "AccessDeniedException");
        aws_error(
            &generate_as(AWS_DAVE, target).await,
            "AccessDeniedException",
        );
    }
    // A grant for the operation without plaintext allows only that one.
    aws(app, AWS_ALICE, "CreateGrant", json!({"KeyId": key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["GenerateDataKeyPairWithoutPlaintext"]}))
        .await
        .ok();
    generate_as(AWS_BOB, "GenerateDataKeyPairWithoutPlaintext")
        .await
        .ok();
    aws_error(
        &generate_as(AWS_BOB, "GenerateDataKeyPair").await,
        "AccessDeniedException",
    );
    // A key pair cannot wrap data key pairs, so no grant for it.
    let rsa_key = aws_key(app, "RSA_2048", "ENCRYPT_DECRYPT").await;
    aws_refused(app, AWS_ALICE, "CreateGrant", json!({"KeyId": rsa_key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["GenerateDataKeyPair"]}), "ValidationException").await;

    // Huawei callers: bob has no rights, dave reads only; an AWS grant reaches the
    // Huawei operation (one core, one grant store).
    let huawei_key = app.create_key(ALICE, "pair-wrapper").await;
    let body = json!({"key_id": huawei_key, "key_spec": "RSA_2048"});
    app.call(BOB, "create-rsa-datakey-pair", body.clone())
        .await
        .error(403, "KMS.0306");
    app.call(DAVE, "create-rsa-datakey-pair", body.clone())
        .await
        .error(403, "KMS.0306");
    aws(app, AWS_ALICE, "CreateGrant", json!({"KeyId": huawei_key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["GenerateDataKeyPair"]}))
        .await
        .ok();
    app.call(BOB, "create-rsa-datakey-pair", body).await.ok();
}

async fn huawei_creates_data_key_pairs(app: &TestApp) {
    let key_id = app.create_key(ALICE, "pairs-wrapper").await;
    for (action, spec) in [
        ("create-rsa-datakey-pair", "RSA_2048"),
        ("create-ec-datakey-pair", "ECC_NIST_P256"),
        ("create-ec-datakey-pair", "SM2"),
    ] {
        let made = app
            .call(ALICE, action, json!({"key_id": key_id, "key_spec": spec, "additional_authenticated_data": "aad-1"}))
            .await;
        let made = made.ok();
        assert_eq!(made["key_id"], key_id);
        assert_eq!(made["key_spec"], spec);
        let private = blob(made, "private_key_plain_text");
        assert_eq!(
            public_of(spec, &private),
            blob(made, "public_key"),
            "{spec}"
        );
        let opened = app
            .call(ALICE, "decrypt-data", json!({"cipher_text": made["private_key_cipher_text"], "additional_authenticated_data": "aad-1"}))
            .await;
        assert_eq!(blob(opened.ok(), "plain_text_base64"), private, "{spec}");
        app.call(
            ALICE,
            "decrypt-data",
            json!({"cipher_text": made["private_key_cipher_text"]}),
        )
        .await
        .error(400, "KMS.2201");
    }
    let bare = app
        .call(
            ALICE,
            "create-ec-datakey-pair",
            json!({"key_id": key_id, "key_spec": "ECC_NIST_P384", "with_plain_text": false}),
        )
        .await;
    assert!(
        bare.ok().get("private_key_plain_text").is_none(),
        "{}",
        bare.raw
    );
    assert!(bare.ok()["public_key"].is_string());
    // Each operation its own family; a missing spec; a bad with_plain_text.
    app.call(
        ALICE,
        "create-rsa-datakey-pair",
        json!({"key_id": key_id, "key_spec": "ECC_NIST_P256"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(
        ALICE,
        "create-ec-datakey-pair",
        json!({"key_id": key_id, "key_spec": "RSA_2048"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(ALICE, "create-ec-datakey-pair", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0204");
    app.call(
        ALICE,
        "create-ec-datakey-pair",
        json!({"key_id": key_id, "key_spec": "SM2", "with_plain_text": 3}),
    )
    .await
    .error(400, "KMS.0308");
    // A key pair does not wrap data key pairs.
    let pair = app
        .call(ALICE, "create-key", json!({"key_alias": "not-a-wrapper", "key_spec": "RSA_2048", "key_usage": "ENCRYPT_DECRYPT"}))
        .await;
    let pair_id = pair.ok()["key_info"]["key_id"].as_str().unwrap().to_owned();
    let refused = app
        .call(
            ALICE,
            "create-ec-datakey-pair",
            json!({"key_id": pair_id, "key_spec": "SM2"}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(
        ALICE,
        "create-ec-datakey-pair",
        json!({"key_id": key_id, "key_spec": "SM2"}),
    )
    .await
    .error(400, "KMS.0209");
}

/// A P-256 key pair made here (through GenerateDataKeyPair): `(PKCS#8, SPKI)`.
async fn local_p256(app: &TestApp) -> (Vec<u8>, Vec<u8>) {
    let wrapper = aws_key(app, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").await;
    let made = aws(
        app,
        AWS_ALICE,
        "GenerateDataKeyPair",
        json!({"KeyId": wrapper, "KeyPairSpec": "ECC_NIST_P256"}),
    )
    .await;
    (
        blob(made.ok(), "PrivateKeyPlaintext"),
        blob(made.ok(), "PublicKey"),
    )
}

/// ECDH on this side: the x-coordinate of our private scalar times the service's point.
fn local_ecdh(private_pkcs8: &[u8], service_spki: &[u8]) -> Vec<u8> {
    use pkcs8::DecodePrivateKey;
    use spki::DecodePublicKey;
    let ours = p256::SecretKey::from_pkcs8_der(private_pkcs8).unwrap();
    let theirs = p256::PublicKey::from_public_key_der(service_spki).unwrap();
    p256::ecdh::diffie_hellman(ours.to_nonzero_scalar(), theirs.as_affine())
        .raw_secret_bytes()
        .to_vec()
}

async fn aws_derives_shared_secrets(app: &TestApp) {
    let key = aws_key(app, "ECC_NIST_P256", "KEY_AGREEMENT").await;
    let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": key})).await;
    assert_eq!(
        described.ok()["KeyMetadata"]["KeyAgreementAlgorithms"],
        json!(["ECDH"])
    );
    let service_public = blob(
        aws(app, AWS_ALICE, "GetPublicKey", json!({"KeyId": key}))
            .await
            .ok(),
        "PublicKey",
    );
    let (private, public) = local_p256(app).await;
    let derive = |who, public: Vec<u8>, algorithm: &'static str| {
        let body = json!({"KeyId": key, "KeyAgreementAlgorithm": algorithm, "PublicKey": BASE64.encode(public)});
        async move { aws(app, who, "DeriveSharedSecret", body).await }
    };
    let derived = derive(AWS_ALICE, public.clone(), "ECDH").await;
    assert_eq!(derived.ok()["KeyAgreementAlgorithm"], "ECDH");
    assert_eq!(derived.ok()["KeyOrigin"], "AWS_KMS");
    let secret = blob(derived.ok(), "SharedSecret");
    assert_eq!(secret.len(), 32);
    assert_eq!(secret, local_ecdh(&private, &service_public));
    // Malformed DER, a key of another curve, another algorithm: the caller's errors.
    aws_error(
        &derive(AWS_ALICE, b"not a public key".to_vec(), "ECDH").await,
        "ValidationException",
    );
    let p384 = aws_key(app, "ECC_NIST_P384", "KEY_AGREEMENT").await;
    let p384_public = blob(
        aws(app, AWS_ALICE, "GetPublicKey", json!({"KeyId": p384}))
            .await
            .ok(),
        "PublicKey",
    );
    aws_error(
        &derive(AWS_ALICE, p384_public, "ECDH").await,
        "ValidationException",
    );
    aws_error(
        &derive(AWS_ALICE, public.clone(), "X25519").await,
        "ValidationException",
    );
    aws_refused(
        app,
        AWS_ALICE,
        "DeriveSharedSecret",
        json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH"}),
        "ValidationException",
    )
    .await;
    // Keys that do not agree: a signing key, a symmetric key.
    for (spec, usage) in [
        ("ECC_NIST_P256", "SIGN_VERIFY"),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    ] {
        let other = aws_key(app, spec, usage).await;
        aws_refused(app, AWS_ALICE, "DeriveSharedSecret", json!({"KeyId": other, "KeyAgreementAlgorithm": "ECDH", "PublicKey": BASE64.encode(&public)}), "InvalidKeyUsageException").await;
    }
    // Who: bob and dave are refused; a DeriveSharedSecret grant lets bob.
    aws_error(
        &derive(AWS_BOB, public.clone(), "ECDH").await,
        "AccessDeniedException",
    );
    aws_error(
        &derive(AWS_DAVE, public.clone(), "ECDH").await,
        "AccessDeniedException",
    );
    aws(app, AWS_ALICE, "CreateGrant", json!({"KeyId": key, "GranteePrincipal": AWS_BOB.arn, "Operations": ["DeriveSharedSecret"]}))
        .await
        .ok();
    assert_eq!(
        blob(
            derive(AWS_BOB, public.clone(), "ECDH").await.ok(),
            "SharedSecret"
        ),
        secret
    );
    aws_refused(app, AWS_ALICE, "DeriveSharedSecret", json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH", "PublicKey": BASE64.encode(&public), "DryRun": true}), "DryRunOperationException").await;
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key}))
        .await
        .ok();
    aws_error(
        &derive(AWS_ALICE, public, "ECDH").await,
        "DisabledException",
    );
}

async fn huawei_derives_shared_secrets(app: &TestApp) {
    let created = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "agree", "key_spec": "EC_P256", "key_usage": "KEY_AGREEMENT"}),
        )
        .await;
    let key_id = created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pem = app
        .call(ALICE, "get-publickey", json!({"key_id": key_id}))
        .await
        .ok()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let base64_body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let service_public = BASE64.decode(base64_body).unwrap();
    let (private, public) = local_p256(app).await;
    let derived = app
        .call(ALICE, "derive-shared-secret", json!({"key_id": key_id, "key_agreement_algorithm": "ECDH", "public_key": BASE64.encode(&public)}))
        .await;
    assert_eq!(derived.ok()["key_id"], key_id);
    assert_eq!(derived.ok()["key_agreement_algorithm"], "ECDH");
    assert_eq!(
        blob(derived.ok(), "shared_secret"),
        local_ecdh(&private, &service_public)
    );
    app.call(ALICE, "derive-shared-secret", json!({"key_id": key_id, "key_agreement_algorithm": "ECDH", "public_key": BASE64.encode(b"garbage")}))
        .await
        .error(400, "KMS.0308");
    app.call(
        ALICE,
        "derive-shared-secret",
        json!({"key_id": key_id, "key_agreement_algorithm": "ECDH"}),
    )
    .await
    .error(400, "KMS.0204");
    app.call(BOB, "derive-shared-secret", json!({"key_id": key_id, "key_agreement_algorithm": "ECDH", "public_key": BASE64.encode(&public)}))
        .await
        .error(403, "KMS.0306");
    let aes = app.create_key(ALICE, "aes-no-agree").await;
    app.call(ALICE, "derive-shared-secret", json!({"key_id": aes, "key_agreement_algorithm": "ECDH", "public_key": BASE64.encode(&public)}))
        .await
        .error(400, "KMS.0308");
}

crate::on_every_backend!(
    aws_rsa_encrypts_and_decrypts_with_oaep,
    aws_sm2_encrypts_with_sm2pke,
    huawei_key_pairs_encrypt_data,
    who_may_encrypt_with_a_key_pair,
    aws_generates_data_key_pairs,
    who_may_generate_data_key_pairs,
    huawei_creates_data_key_pairs,
    aws_derives_shared_secrets,
    huawei_derives_shared_secrets,
);
