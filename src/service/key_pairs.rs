//! Encrypt and Decrypt with key pairs (RSAES-OAEP, SM2PKE), both dialects. The
//! ciphertext is the algorithm's bare output (as AWS returns it, so a client may make one
//! offline with the public key from GetPublicKey); decryption is therefore told the key
//! by the request, and the algorithm too.

use super::{Kms, key_type_failure, unopenable};
use crate::crypto;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec};
use crate::domain::{Caller, Key, KeyRef, KmsError};

impl Kms {
    /// The key pair for an asymmetric Encrypt or Decrypt, authorized, with the algorithm
    /// checked against the key. Key pairs take no encryption context or additional data
    /// (AWS: "not supported on asymmetric KMS keys").
    pub(super) async fn asymmetric_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        algorithm: EncryptionAlgorithm,
        context: &[u8],
        cloud: Cloud,
    ) -> Result<(Key, KeySpec, Vec<u8>), KmsError> {
        let (key, material) = self
            .material_checked(caller, key_ref, action, &[], false)
            .await?;
        let (spec, usage) = key.spec_and_usage()?;
        spec.check_encryption_algorithm(usage, algorithm, cloud)
            .map_err(KmsError::KeyType)?;
        if !context.is_empty() {
            return Err(KmsError::InvalidParameter(
                "An encryption context (additional authenticated data) is not supported with asymmetric keys.".into(),
            ));
        }
        Ok((key, spec, material))
    }

    /// Encrypt / encrypt-data with `algorithm`: SYMMETRIC_DEFAULT is the framed symmetric
    /// path; the others encrypt with the public half of an ENCRYPT_DECRYPT key pair.
    #[allow(clippy::too_many_arguments)]
    pub async fn encrypt_data(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: EncryptionAlgorithm,
        plaintext: &[u8],
        context: &[u8],
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            return self
                .encrypt(
                    caller,
                    key_ref,
                    Action::EncryptData,
                    plaintext,
                    context,
                    dry_run,
                )
                .await;
        }
        let (key, spec, material) = self
            .asymmetric_material(
                caller,
                key_ref,
                Action::EncryptData,
                algorithm,
                context,
                cloud,
            )
            .await?;
        spec.check_plaintext_len(algorithm, plaintext.len(), cloud)
            .map_err(KmsError::KeyType)?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let ciphertext =
            crypto::asymmetric_encryption::encrypt(spec, &material, algorithm, plaintext)
                .map_err(|error| key_type_failure(&key, error))?;
        self.record_use(caller, &key, Action::EncryptData).await;
        Ok((key, ciphertext))
    }

    /// Decrypt / decrypt-data with `algorithm`. SYMMETRIC_DEFAULT opens a frame (the key
    /// comes from it; `expected` must match); the others need `expected`, the key pair.
    #[allow(clippy::too_many_arguments)]
    pub async fn decrypt_data(
        &self,
        caller: &Caller,
        expected: Option<&KeyRef>,
        algorithm: EncryptionAlgorithm,
        ciphertext: &[u8],
        context: &[u8],
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            return self
                .decrypt(caller, expected, ciphertext, context, dry_run)
                .await;
        }
        let key_ref = expected.ok_or(KmsError::MissingParameter(match cloud {
            Cloud::Aws => "KeyId",
            Cloud::Huawei => "key_id",
        }))?;
        let (key, spec, material) = self
            .asymmetric_material(
                caller,
                key_ref,
                Action::DecryptData,
                algorithm,
                context,
                cloud,
            )
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let plaintext =
            crypto::asymmetric_encryption::decrypt(spec, &material, algorithm, ciphertext)
                .map_err(|_| unopenable())?;
        self.record_use(caller, &key, Action::DecryptData).await;
        Ok((key, plaintext))
    }
}

/// A data key pair made for a caller: the pair and its private key sealed under the
/// symmetric key (a frame `Decrypt` / decrypt-data opens, with the same context).
pub struct SealedKeyPair {
    pub pair: crypto::key_material::DataKeyPair,
    pub private_key_ciphertext: Vec<u8>,
}

impl Kms {
    /// GenerateDataKeyPair(WithoutPlaintext) / create-rsa-datakey-pair /
    /// create-ec-datakey-pair: a fresh key pair of `pair_spec`, its private key (PKCS#8
    /// DER) encrypted under the symmetric ENCRYPT_DECRYPT key `key_ref`. Authorization and
    /// the key's checks run before any key is generated; with `dry_run` they are all.
    #[allow(clippy::too_many_arguments)]
    pub async fn generate_data_key_pair(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        pair_spec: KeySpec,
        context: &[u8],
        dry_run: bool,
    ) -> Result<(Key, SealedKeyPair), KmsError> {
        let (key, first) = self.material_for(caller, key_ref, action, context).await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let pair = tokio::task::spawn_blocking(move || {
            crypto::key_material::generate_data_key_pair(pair_spec)
        })
        .await
        .map_err(|_| KmsError::Internal)?
        .map_err(|error| key_type_failure(&key, error))?;
        let (version, material) = self.current_material(&key, first).await?;
        let private_key_ciphertext = crypto::encrypt_framed_version(
            super::frame_cipher(&key)?,
            &key.key_id,
            version,
            &material,
            &pair.private_key_der,
            context,
        );
        self.record_use(caller, &key, action).await;
        Ok((
            key,
            SealedKeyPair {
                pair,
                private_key_ciphertext,
            },
        ))
    }
}

impl Kms {
    /// DeriveSharedSecret / derive-shared-secret: ECDH between a KEY_AGREEMENT key's
    /// private half and the caller's public key (DER SubjectPublicKeyInfo of the key's
    /// curve). A public key that is not one is the caller's error, never a 500.
    #[allow(clippy::too_many_arguments)]
    pub async fn derive_shared_secret(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: KeyAgreementAlgorithm,
        peer_public_key_der: &[u8],
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, material) = self
            .material_for(caller, key_ref, Action::DeriveSharedSecret, &[])
            .await?;
        let (spec, usage) = key.spec_and_usage()?;
        spec.check_key_agreement_algorithm(usage, algorithm, cloud)
            .map_err(KmsError::KeyType)?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        match crypto::key_agreement::derive_shared_secret(spec, &material, peer_public_key_der) {
            Ok(secret) => {
                self.record_use(caller, &key, Action::DeriveSharedSecret)
                    .await;
                Ok((key, secret))
            }
            Err(crypto::key_error::KeyTypeError::InvalidPublicKey(message)) => {
                Err(KmsError::InvalidParameter(format!("PublicKey: {message}.")))
            }
            Err(error) => Err(key_type_failure(&key, error)),
        }
    }
}
