//! Key pairs and MAC keys (issue 12): creation with each cloud's specs and usages,
//! sign / verify / get-publickey / generate-mac / verify-mac in both dialects, the key
//! type's refusals, and grants that carry the new operations.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::aws::{AWS_ALICE, AWS_BOB, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, TestApp};

const BASE64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

async fn huawei_key(app: &TestApp, alias: &str, spec: &str, usage: Option<&str>) -> String {
    let mut body = json!({"key_alias": alias, "key_spec": spec});
    if let Some(usage) = usage {
        body["key_usage"] = json!(usage);
    }
    app.call(ALICE, "create-key", body).await.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn huawei_signing_round_trip(app: &TestApp) {
    let key_id = huawei_key(app, "signer", "EC_P256", None).await;
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_spec"], "EC_P256");
    // Huawei's default usage for a key pair.
    assert_eq!(described.ok()["key_info"]["key_usage"], "SIGN_VERIFY");

    let digest = Sha256::digest(b"the order of the day");
    let sign = app
        .call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode(digest), "signing_algorithm": "ECDSA_SHA_256"}))
        .await;
    let signature = sign.ok()["signature"].as_str().unwrap().to_owned();
    let verify = |signature: String, message: Vec<u8>| {
        let body = json!({"key_id": key_id, "message": BASE64.encode(message), "signature": signature,
                          "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"});
        async move { app.call(ALICE, "verify", body).await }
    };
    assert_eq!(
        verify(signature.clone(), digest.to_vec()).await.ok()["signature_valid"],
        "true"
    );
    let other = Sha256::digest(b"another order");
    assert_eq!(
        verify(signature.clone(), other.to_vec()).await.ok()["signature_valid"],
        "false"
    );
    // RAW: the service hashes the message.
    let raw = app
        .call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode(b"raw text"), "signing_algorithm": "ECDSA_SHA_256", "message_type": "RAW"}))
        .await;
    let raw_signature = raw.ok()["signature"].as_str().unwrap().to_owned();
    let digest_of_raw = Sha256::digest(b"raw text");
    assert_eq!(
        verify(raw_signature, digest_of_raw.to_vec()).await.ok()["signature_valid"],
        "true"
    );

    let public = app
        .call(ALICE, "get-publickey", json!({"key_id": key_id}))
        .await;
    let pem = public.ok()["public_key"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\r\n"), "{pem}");
    assert!(pem.ends_with("-----END PUBLIC KEY-----"), "{pem}");

    // The key type's refusals, with Huawei's codes.
    app.call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode(digest), "signing_algorithm": "RSASSA_PSS_SHA_256"}))
        .await
        .error(400, "KMS.0332");
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "hello"}),
    )
    .await
    .error(400, "KMS.0335");
    let aes = app.create_key(ALICE, "plain-aes").await;
    app.call(ALICE, "sign", json!({"key_id": aes, "message": BASE64.encode(digest), "signing_algorithm": "ECDSA_SHA_256"}))
        .await
        .error(400, "KMS.1115");
    app.call(ALICE, "get-publickey", json!({"key_id": aes}))
        .await
        .error(400, "KMS.0308");
    // A DIGEST of the wrong length, a message that is not Base64, an unknown spec.
    app.call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode([1_u8; 20]), "signing_algorithm": "ECDSA_SHA_256"}))
        .await
        .error(400, "KMS.0308");
    app.call(
        ALICE,
        "sign",
        json!({"key_id": key_id, "message": "not base64!", "signing_algorithm": "ECDSA_SHA_256"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(
        ALICE,
        "create-key",
        json!({"key_alias": "odd", "key_spec": "EC_P999"}),
    )
    .await
    .error(400, "KMS.0308");
    app.call(
        ALICE,
        "create-key",
        json!({"key_alias": "odd", "key_spec": "HMAC_256", "key_usage": "SIGN_VERIFY"}),
    )
    .await
    .error(400, "KMS.0308");
    // A disabled key signs nothing.
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode(digest), "signing_algorithm": "ECDSA_SHA_256"}))
        .await
        .error(400, "KMS.0209");
}

async fn huawei_macs_verify_and_depend_on_the_key(app: &TestApp) {
    let key_id = huawei_key(app, "mac", "HMAC_256", None).await;
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(
        described.ok()["key_info"]["key_usage"],
        "GENERATE_VERIFY_MAC"
    );
    let message = BASE64.encode(b"payload");
    let mac = app
        .call(
            ALICE,
            "generate-mac",
            json!({"key_id": key_id, "mac_algorithm": "HMAC_SHA_256", "message": message}),
        )
        .await;
    assert_eq!(mac.ok()["mac_algorithm"], "HMAC_SHA_256");
    let tag = mac.ok()["mac"].as_str().unwrap().to_owned();
    assert_eq!(BASE64.decode(&tag).unwrap().len(), 32);
    let check = |tag: String| {
        let body = json!({"key_id": key_id, "mac_algorithm": "HMAC_SHA_256", "message": message, "mac": tag});
        async move { app.call(ALICE, "verify-mac", body).await }
    };
    assert_eq!(check(tag.clone()).await.ok()["mac_valid"], true);
    let mut forged = BASE64.decode(&tag).unwrap();
    forged[0] ^= 1;
    assert_eq!(check(BASE64.encode(forged)).await.ok()["mac_valid"], false);
    // Another key's MAC differs: the tag depends on the key's own secret.
    let other = huawei_key(app, "mac2", "HMAC_256", None).await;
    let other_tag = app
        .call(
            ALICE,
            "generate-mac",
            json!({"key_id": other, "mac_algorithm": "HMAC_SHA_256", "message": message}),
        )
        .await;
    assert_ne!(other_tag.ok()["mac"], json!(tag));
    app.call(
        ALICE,
        "generate-mac",
        json!({"key_id": key_id, "mac_algorithm": "HMAC_SHA_512", "message": message}),
    )
    .await
    .error(400, "KMS.0308");
}

async fn aws_signing_and_macs(app: &TestApp) {
    let created = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}),
    )
    .await;
    let metadata = created.ok()["KeyMetadata"].clone();
    assert_eq!(metadata["KeySpec"], "RSA_2048");
    assert_eq!(metadata["KeyUsage"], "SIGN_VERIFY");
    assert!(
        metadata["SigningAlgorithms"]
            .as_array()
            .unwrap()
            .contains(&json!("RSASSA_PSS_SHA_256"))
    );
    assert!(metadata.get("EncryptionAlgorithms").is_none(), "{metadata}");
    let key = metadata["KeyId"].as_str().unwrap().to_owned();

    let message = BASE64.encode(b"release 1.2.3");
    let signed = aws(app, AWS_ALICE, "Sign", json!({"KeyId": key, "Message": message, "MessageType": "RAW", "SigningAlgorithm": "RSASSA_PSS_SHA_256"})).await;
    assert_eq!(signed.ok()["SigningAlgorithm"], "RSASSA_PSS_SHA_256");
    assert_eq!(signed.ok()["KeyId"], metadata["Arn"]);
    let signature = signed.ok()["Signature"].as_str().unwrap().to_owned();
    assert_eq!(BASE64.decode(&signature).unwrap().len(), 256);
    let verify = |signature: &str, message: &str| {
        let body = json!({"KeyId": key, "Message": message, "MessageType": "RAW", "Signature": signature, "SigningAlgorithm": "RSASSA_PSS_SHA_256"});
        async move { aws(app, AWS_ALICE, "Verify", body).await }
    };
    assert_eq!(
        verify(&signature, &message).await.ok()["SignatureValid"],
        true
    );
    aws_error(
        &verify(&signature, &BASE64.encode(b"release 6.6.6")).await,
        "KMSInvalidSignatureException",
    );

    let public = aws(app, AWS_ALICE, "GetPublicKey", json!({"KeyId": key})).await;
    let der = BASE64
        .decode(public.ok()["PublicKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(public.ok()["KeySpec"], "RSA_2048");
    // The exported key verifies the signature outside the service.
    kms_emulator::crypto::signing::verify_with_public_key_der(
        kms_emulator::domain::key_spec::KeySpec::Rsa2048,
        &der,
        kms_emulator::domain::key_spec::SigningAlgorithm::RsassaPssSha256,
        kms_emulator::domain::key_spec::MessageType::Raw,
        b"release 1.2.3",
        &BASE64.decode(&signature).unwrap(),
    )
    .expect("the public key verifies the signature");

    // The key type's refusals in AWS's words.
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": BASE64.encode(b"x")}),
        "InvalidKeyUsageException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "Sign",
        json!({"KeyId": key, "Message": message, "SigningAlgorithm": "ECDSA_SHA_256"}),
        "InvalidKeyUsageException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256"}),
        "ValidationException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "ML_DSA_44", "KeyUsage": "SIGN_VERIFY"}),
        "ValidationException",
    )
    .await;
    aws_refused(app, AWS_ALICE, "Sign", json!({"KeyId": key, "Message": BASE64.encode([0_u8; 5000]), "SigningAlgorithm": "RSASSA_PSS_SHA_256"}), "ValidationException").await;
    let dry = aws(app, AWS_ALICE, "Sign", json!({"KeyId": key, "Message": message, "MessageType": "RAW", "SigningAlgorithm": "RSASSA_PSS_SHA_256", "DryRun": true})).await;
    aws_error(&dry, "DryRunOperationException");

    // MAC keys.
    let mac_key = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "HMAC_384", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )
    .await;
    let mac_meta = mac_key.ok()["KeyMetadata"].clone();
    assert_eq!(mac_meta["MacAlgorithms"], json!(["HMAC_SHA_384"]));
    let mac_id = mac_meta["KeyId"].as_str().unwrap().to_owned();
    let tag = aws(
        app,
        AWS_ALICE,
        "GenerateMac",
        json!({"KeyId": mac_id, "Message": message, "MacAlgorithm": "HMAC_SHA_384"}),
    )
    .await;
    let tag = tag.ok()["Mac"].as_str().unwrap().to_owned();
    assert_eq!(BASE64.decode(&tag).unwrap().len(), 48);
    let valid = aws(
        app,
        AWS_ALICE,
        "VerifyMac",
        json!({"KeyId": mac_id, "Message": message, "MacAlgorithm": "HMAC_SHA_384", "Mac": tag}),
    )
    .await;
    assert_eq!(valid.ok()["MacValid"], true);
    let wrong = aws(app, AWS_ALICE, "VerifyMac", json!({"KeyId": mac_id, "Message": BASE64.encode(b"other"), "MacAlgorithm": "HMAC_SHA_384", "Mac": tag})).await;
    aws_error(&wrong, "KMSInvalidMacException");
    aws_refused(
        app,
        AWS_ALICE,
        "GetPublicKey",
        json!({"KeyId": mac_id}),
        "InvalidKeyUsageException",
    )
    .await;
}

/// A key made through Huawei signs there and verifies through AWS; grants made through
/// AWS carry Sign and Verify, are refused for operations the key cannot do, and stop
/// working when retired.
async fn grants_carry_the_new_operations_across_dialects(app: &TestApp) {
    let key_id = huawei_key(app, "shared-signer", "EC_P384", Some("SIGN_VERIFY")).await;
    let digest = sha2::Sha384::digest(b"invoice 7");
    let signed = app
        .call(ALICE, "sign", json!({"key_id": key_id, "message": BASE64.encode(digest), "signing_algorithm": "ECDSA_SHA_384"}))
        .await;
    let signature = signed.ok()["signature"].as_str().unwrap().to_owned();
    let verify_as = |who, signature: String| {
        let body = json!({"KeyId": key_id, "Message": BASE64.encode(digest), "MessageType": "DIGEST",
                          "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_384"});
        async move { aws(app, who, "Verify", body).await }
    };
    assert_eq!(
        verify_as(AWS_ALICE, signature.clone()).await.ok()["SignatureValid"],
        true
    );

    // Bob has no permission of his own: refused until a grant allows Verify.
    let refused: Value = verify_as(AWS_BOB, signature.clone()).await.body;
    assert_eq!(refused["__type"], "AccessDeniedException", "{refused}");
    let misfit = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key_id, "GranteePrincipal": AWS_BOB.arn, "Operations": ["Encrypt"]}),
    )
    .await;
    aws_error(&misfit, "ValidationException");
    let grant = aws(app, AWS_ALICE, "CreateGrant", json!({"KeyId": key_id, "GranteePrincipal": AWS_BOB.arn, "Operations": ["Verify", "GetPublicKey"]})).await;
    let grant_id = grant.ok()["GrantId"].as_str().unwrap().to_owned();
    assert_eq!(
        verify_as(AWS_BOB, signature.clone()).await.ok()["SignatureValid"],
        true
    );
    aws(app, AWS_BOB, "GetPublicKey", json!({"KeyId": key_id}))
        .await
        .ok();
    // Verify does not give Sign.
    let sign = aws(app, AWS_BOB, "Sign", json!({"KeyId": key_id, "Message": BASE64.encode(digest), "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_384"})).await;
    assert_eq!(sign.body["__type"], "AccessDeniedException", "{}", sign.raw);
    // The Huawei listing shows the AWS-only operations by their stored names.
    let listed = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    let operations = &listed.ok()["grants"][0]["operations"];
    assert!(
        operations
            .as_array()
            .unwrap()
            .contains(&json!("aws:Verify")),
        "{operations}"
    );
    aws(
        app,
        AWS_ALICE,
        "RevokeGrant",
        json!({"KeyId": key_id, "GrantId": grant_id}),
    )
    .await
    .ok();
    let after: Value = verify_as(AWS_BOB, signature).await.body;
    assert_eq!(after["__type"], "AccessDeniedException", "{after}");
}

crate::on_every_backend!(
    huawei_signing_round_trip,
    huawei_macs_verify_and_depend_on_the_key,
    aws_signing_and_macs,
    grants_carry_the_new_operations_across_dialects,
);
