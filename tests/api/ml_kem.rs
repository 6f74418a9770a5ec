//! AWS ML-KEM keys (ML_KEM_512/768/1024, ENCAPSULATE_DECAPSULATE) and Encapsulate /
//! Decapsulate over HTTP: DescribeKey and GetPublicKey (LAMPS SubjectPublicKeyInfo), round
//! trips through the service and with a client-side encapsulation by the RustCrypto
//! `ml-kem` crate, implicit rejection, the refusals (usage, algorithm, state, ciphertext
//! length), grants, aliases, dry runs, GetKeyLastUsage, and Huawei's refusal of the spec.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ml_kem::Encapsulate as _;
use serde_json::{Value, json};
use spki::DecodePublicKey;

use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, aws, aws_error};
use crate::helpers::{ALICE, TestApp};

const SPECS: [(&str, usize, u8); 3] = [
    ("ML_KEM_512", 768, 1),
    ("ML_KEM_768", 1088, 2),
    ("ML_KEM_1024", 1568, 3),
];

async fn ml_kem_key(app: &TestApp, spec: &str) -> Value {
    aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": spec, "KeyUsage": "ENCAPSULATE_DECAPSULATE"}),
    )
    .await
    .ok()["KeyMetadata"]
        .clone()
}

async fn encapsulate(app: &TestApp, key_id: &str) -> (Vec<u8>, Vec<u8>) {
    let reply = aws(
        app,
        AWS_ALICE,
        "Encapsulate",
        json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"}),
    )
    .await;
    let body = reply.ok();
    (
        BASE64
            .decode(body["SharedSecretCiphertextBlob"].as_str().unwrap())
            .unwrap(),
        BASE64
            .decode(body["SharedSecret"].as_str().unwrap())
            .unwrap(),
    )
}

async fn decapsulate(app: &TestApp, key_id: &str, ciphertext: &[u8]) -> crate::helpers::Reply {
    aws(
        app,
        AWS_ALICE,
        "Decapsulate",
        json!({"KeyId": key_id, "SharedSecretCiphertextBlob": BASE64.encode(ciphertext),
               "EncapsulationAlgorithm": "ML_KEM"}),
    )
    .await
}

fn secret_of(reply: &crate::helpers::Reply) -> Vec<u8> {
    BASE64
        .decode(reply.ok()["SharedSecret"].as_str().unwrap())
        .unwrap()
}

/// Encapsulates to `spki` outside the service, with the `ml-kem` crate.
fn client_encapsulate(spec: &str, spki: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (ct, ss) = match spec {
        "ML_KEM_512" => {
            let ek = ml_kem::ml_kem_512::EncapsulationKey::from_public_key_der(spki).unwrap();
            let (ct, ss) = ek.encapsulate_with_rng(&mut rng());
            (ct.to_vec(), ss.to_vec())
        }
        "ML_KEM_768" => {
            let ek = ml_kem::ml_kem_768::EncapsulationKey::from_public_key_der(spki).unwrap();
            let (ct, ss) = ek.encapsulate_with_rng(&mut rng());
            (ct.to_vec(), ss.to_vec())
        }
        _ => {
            let ek = ml_kem::ml_kem_1024::EncapsulationKey::from_public_key_der(spki).unwrap();
            let (ct, ss) = ek.encapsulate_with_rng(&mut rng());
            (ct.to_vec(), ss.to_vec())
        }
    };
    (ct, ss)
}

fn rng() -> crypto_common::getrandom::rand_core::UnwrapErr<crypto_common::getrandom::SysRng> {
    crypto_common::getrandom::rand_core::UnwrapErr(crypto_common::getrandom::SysRng)
}

async fn ml_kem_keys_describe_publish_and_round_trip(app: &TestApp) {
    for (spec, ciphertext_len, oid_last) in SPECS {
        let key = ml_kem_key(app, spec).await;
        let key_id = key["KeyId"].as_str().unwrap();
        assert_eq!(key["KeySpec"], spec);
        assert_eq!(key["CustomerMasterKeySpec"], spec);
        assert_eq!(key["KeyUsage"], "ENCAPSULATE_DECAPSULATE");
        assert_eq!(key["EncapsulationAlgorithms"], json!(["ML_KEM"]));
        for absent in [
            "EncryptionAlgorithms",
            "SigningAlgorithms",
            "KeyAgreementAlgorithms",
            "MacAlgorithms",
        ] {
            assert!(key.get(absent).is_none(), "{spec}: {absent}");
        }
        let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": key_id})).await;
        assert_eq!(
            described.ok()["KeyMetadata"]["EncapsulationAlgorithms"],
            json!(["ML_KEM"])
        );

        let public = aws(app, AWS_ALICE, "GetPublicKey", json!({"KeyId": key_id})).await;
        let public = public.ok();
        assert_eq!(public["KeySpec"], spec);
        assert_eq!(public["KeyUsage"], "ENCAPSULATE_DECAPSULATE");
        assert_eq!(public["EncapsulationAlgorithms"], json!(["ML_KEM"]));
        assert!(public.get("EncryptionAlgorithms").is_none());
        let spki = BASE64
            .decode(public["PublicKey"].as_str().unwrap())
            .unwrap();
        // id-alg-ml-kem-* (2.16.840.1.101.3.4.4.1/2/3), the LAMPS profile's OIDs.
        let oid = [
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, oid_last,
        ];
        assert!(spki.windows(oid.len()).any(|w| w == oid), "{spec}");

        // Encapsulate with KMS, Decapsulate with KMS: one secret.
        let reply = aws(
            app,
            AWS_ALICE,
            "Encapsulate",
            json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await;
        let body = reply.ok();
        assert_eq!(body["KeyId"], key["Arn"]);
        assert_eq!(body["EncapsulationAlgorithm"], "ML_KEM");
        let mut fields: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "EncapsulationAlgorithm",
                "KeyId",
                "SharedSecret",
                "SharedSecretCiphertextBlob"
            ]
        );
        let (ciphertext, secret) = encapsulate(app, key_id).await;
        assert_eq!(ciphertext.len(), ciphertext_len, "{spec}");
        assert_eq!(secret.len(), 32);
        let opened = decapsulate(app, key_id, &ciphertext).await;
        assert_eq!(opened.ok()["KeyId"], key["Arn"]);
        assert_eq!(opened.ok()["EncapsulationAlgorithm"], "ML_KEM");
        assert_eq!(secret_of(&opened), secret, "{spec}");

        // Encapsulate client-side with the published key; KMS decapsulates it.
        let (ciphertext, secret) = client_encapsulate(spec, &spki);
        assert_eq!(
            secret_of(&decapsulate(app, key_id, &ciphertext).await),
            secret
        );

        // Implicit rejection: an altered ciphertext of the right length gives another
        // 32-byte secret, not an error (AWS: "returns a 32-byte pseudo-random value").
        let mut altered = ciphertext.clone();
        altered[10] ^= 0x80;
        let rejected = secret_of(&decapsulate(app, key_id, &altered).await);
        assert_eq!(rejected.len(), 32);
        assert_ne!(rejected, secret);
        // A wrong length is InvalidCiphertextException.
        for len in [1, ciphertext_len - 1, ciphertext_len + 1] {
            aws_error(
                &decapsulate(app, key_id, &vec![7; len]).await,
                "InvalidCiphertextException",
            );
        }
    }
}

async fn encapsulation_refusals(app: &TestApp) {
    // ENCAPSULATE_DECAPSULATE is the one usage of ML-KEM keys, and theirs alone.
    for (spec, usage) in [
        ("ML_KEM_768", Some("ENCRYPT_DECRYPT")),
        ("ML_KEM_768", Some("KEY_AGREEMENT")),
        ("ML_KEM_512", None),
        ("ECC_NIST_P256", Some("ENCAPSULATE_DECAPSULATE")),
        ("SYMMETRIC_DEFAULT", Some("ENCAPSULATE_DECAPSULATE")),
        ("RSA_2048", Some("ENCAPSULATE_DECAPSULATE")),
    ] {
        let mut body = json!({"KeySpec": spec});
        if let Some(usage) = usage {
            body["KeyUsage"] = json!(usage);
        }
        aws_error(
            &aws(app, AWS_ALICE, "CreateKey", body).await,
            "ValidationException",
        );
    }
    // Another key type: InvalidKeyUsageException, for both operations.
    let symmetric = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let agreement = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}),
    )
    .await
    .ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    for key_id in [&symmetric, &agreement] {
        aws_error(
            &aws(
                app,
                AWS_ALICE,
                "Encapsulate",
                json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"}),
            )
            .await,
            "InvalidKeyUsageException",
        );
        aws_error(
            &decapsulate(app, key_id, &[0; 1088]).await,
            "InvalidKeyUsageException",
        );
    }
    // An ML-KEM key refuses the other key types' operations.
    let key = ml_kem_key(app, "ML_KEM_768").await;
    let key_id = key["KeyId"].as_str().unwrap();
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": key_id, "Plaintext": BASE64.encode("x"), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        )
        .await,
        "InvalidKeyUsageException",
    );
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Sign",
            json!({"KeyId": key_id, "Message": BASE64.encode("x"), "SigningAlgorithm": "ECDSA_SHA_256"}),
        )
        .await,
        "InvalidKeyUsageException",
    );
    // The algorithm: required, and ML_KEM is the only value.
    for body in [
        json!({"KeyId": key_id}),
        json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM_768"}),
    ] {
        aws_error(
            &aws(app, AWS_ALICE, "Encapsulate", body).await,
            "ValidationException",
        );
    }
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Decapsulate",
            json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await,
        "ValidationException",
    );
    // DryRun: every check, then DryRunOperationException; the length is one of the checks.
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Encapsulate",
            json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM", "DryRun": true}),
        )
        .await,
        "DryRunOperationException",
    );
    let (ciphertext, _) = encapsulate(app, key_id).await;
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Decapsulate",
            json!({"KeyId": key_id, "SharedSecretCiphertextBlob": BASE64.encode(&ciphertext),
                   "EncapsulationAlgorithm": "ML_KEM", "DryRun": true}),
        )
        .await,
        "DryRunOperationException",
    );
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Decapsulate",
            json!({"KeyId": key_id, "SharedSecretCiphertextBlob": BASE64.encode([1, 2, 3]),
                   "EncapsulationAlgorithm": "ML_KEM", "DryRun": true}),
        )
        .await,
        "InvalidCiphertextException",
    );
    // A disabled key: DisabledException; enabled again, it works.
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key_id}))
        .await
        .ok();
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Encapsulate",
            json!({"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await,
        "DisabledException",
    );
    aws_error(
        &decapsulate(app, key_id, &ciphertext).await,
        "DisabledException",
    );
    aws(app, AWS_ALICE, "EnableKey", json!({"KeyId": key_id}))
        .await
        .ok();
    decapsulate(app, key_id, &ciphertext).await.ok();
    // ML-KEM keys do not rotate (asymmetric keys never do).
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "EnableKeyRotation",
            json!({"KeyId": key_id}),
        )
        .await,
        "UnsupportedOperationException",
    );
}

async fn aliases_grants_and_last_usage(app: &TestApp) {
    let key = ml_kem_key(app, "ML_KEM_1024").await;
    let key_id = key["KeyId"].as_str().unwrap();
    let arn = key["Arn"].as_str().unwrap();
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/pq", "TargetKeyId": key_id}),
    )
    .await
    .ok();
    // Alias names and alias ARNs name the key.
    let (ciphertext, secret) = encapsulate(app, "alias/pq").await;
    let alias_arn = arn.replace(&format!("key/{key_id}"), "alias/pq");
    assert_eq!(
        secret_of(&decapsulate(app, &alias_arn, &ciphertext).await),
        secret
    );
    let usage = aws(app, AWS_ALICE, "GetKeyLastUsage", json!({"KeyId": key_id})).await;
    assert_eq!(usage.ok()["KeyLastUsage"]["Operation"], "Decapsulate");
    encapsulate(app, arn).await;
    let usage = aws(app, AWS_ALICE, "GetKeyLastUsage", json!({"KeyId": key_id})).await;
    assert_eq!(usage.ok()["KeyLastUsage"]["Operation"], "Encapsulate");

    // Erin (another account) may not, until a grant allows Decapsulate only.
    let erin_decapsulates = || async {
        aws(
            app,
            AWS_ERIN,
            "Decapsulate",
            json!({"KeyId": arn, "SharedSecretCiphertextBlob": BASE64.encode(&ciphertext),
                   "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await
    };
    aws_error(&erin_decapsulates().await, "AccessDeniedException");
    let grant = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key_id, "GranteePrincipal": AWS_ERIN.arn,
               "Operations": ["Decapsulate", "DescribeKey"]}),
    )
    .await;
    let grant_id = grant.ok()["GrantId"].as_str().unwrap().to_owned();
    assert_eq!(secret_of(&erin_decapsulates().await), secret);
    aws_error(
        &aws(
            app,
            AWS_ERIN,
            "Encapsulate",
            json!({"KeyId": arn, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await,
        "AccessDeniedException",
    );
    let listed = aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key_id})).await;
    assert_eq!(
        listed.ok()["Grants"][0]["Operations"],
        json!(["Decapsulate", "DescribeKey"])
    );
    aws(
        app,
        AWS_ALICE,
        "RevokeGrant",
        json!({"KeyId": key_id, "GrantId": grant_id}),
    )
    .await
    .ok();
    aws_error(&erin_decapsulates().await, "AccessDeniedException");
    // Encapsulate is grantable too; an ML-KEM operation on a key of another type is not.
    aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key_id, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encapsulate"]}),
    )
    .await
    .ok();
    aws(
        app,
        AWS_ERIN,
        "Encapsulate",
        json!({"KeyId": arn, "EncapsulationAlgorithm": "ML_KEM"}),
    )
    .await
    .ok();
    let symmetric = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "CreateGrant",
            json!({"KeyId": symmetric, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Decapsulate"]}),
        )
        .await,
        "ValidationException",
    );
}

async fn huawei_has_no_ml_kem_keys(app: &TestApp) {
    for (spec, usage) in [
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE"),
        ("ML_KEM_512", "ENCRYPT_DECRYPT"),
        ("AES_256", "ENCAPSULATE_DECAPSULATE"),
    ] {
        app.call(
            ALICE,
            "create-key",
            json!({"key_alias": "pq", "key_spec": spec, "key_usage": usage}),
        )
        .await
        .error(400, "KMS.0308");
    }
    // A key made through AWS is described by Huawei with AWS's names.
    let key = ml_kem_key(app, "ML_KEM_512").await;
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key["KeyId"]}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_spec"], "ML_KEM_512");
    assert_eq!(
        described.ok()["key_info"]["key_usage"],
        "ENCAPSULATE_DECAPSULATE"
    );
}

crate::on_every_backend!(
    ml_kem_keys_describe_publish_and_round_trip,
    encapsulation_refusals,
    aliases_grants_and_last_usage,
    huawei_has_no_ml_kem_keys,
);
