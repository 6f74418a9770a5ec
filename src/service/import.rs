//! Imported key material (BYOK): get-parameters-for-import / GetParametersForImport,
//! import-key-material / ImportKeyMaterial, delete-imported-key-material /
//! DeleteImportedKeyMaterial, and the expiry of imported material on the emulator's clock.
//!
//! The rules are `domain::import`'s; the cryptography (wrapping key pairs, unwrapping) is
//! `crypto::key_import`'s. Import tokens live in the store with their wrapping private key
//! (wrapped under the master key), so any process sharing the database accepts them.

use super::{Kms, now_millis};
use crate::crypto::{self, key_error::KeyTypeError, key_import};
use crate::domain::authz::Action;
use crate::domain::import::{self, Expiration, ImportedMaterial, StoredImportToken};
use crate::domain::key_spec::{Cloud, KeySpecError, WrappingAlgorithm, WrappingKeySpec};
use crate::domain::{Caller, Dialect, Key, KeyRef, KmsError};
use crate::store::{Refusal, StoreError};

/// Bytes of randomness in an import token. Huawei's import_token is Base64 of 200 to 6144
/// characters; 160 bytes make 216.
const IMPORT_TOKEN_BYTES: usize = 160;

/// What get-parameters-for-import answers.
#[derive(Debug)]
pub struct ImportParameters {
    pub key: Key,
    pub import_token: Vec<u8>,
    /// DER SubjectPublicKeyInfo of the RSA wrapping key.
    pub public_key_der: Vec<u8>,
    /// ms since the epoch on the emulator's clock.
    pub valid_to: i64,
}

/// The expiry an import request asks for, as each dialect sends it; resolved against the
/// emulator's clock by the domain's rules.
#[derive(Debug, Clone)]
pub enum ExpiryRequest {
    /// AWS ExpirationModel and ValidTo (ms since the epoch).
    Aws {
        model: Option<String>,
        valid_to_ms: Option<i64>,
    },
    /// Huawei expiration_time (seconds since the epoch).
    Huawei { seconds: Option<i64> },
}

impl ExpiryRequest {
    fn resolve(&self, now_ms: i64) -> Result<Expiration, KmsError> {
        match self {
            Self::Aws { model, valid_to_ms } => {
                import::aws_expiration(model.as_deref(), *valid_to_ms, now_ms)
            }
            Self::Huawei { seconds } => import::huawei_expiration(*seconds, now_ms),
        }
    }
}

fn import_failure(error: KeyTypeError) -> KmsError {
    match error {
        KeyTypeError::UnwrappableKeyMaterial(why) => KmsError::UnwrappableKeyMaterial(why.into()),
        KeyTypeError::IncorrectKeyMaterial(why) => KmsError::IncorrectKeyMaterial(why),
        other => {
            tracing::error!(error = %other, "unwrapping imported key material failed");
            KmsError::Internal
        }
    }
}

impl Kms {
    /// The time on the emulator's clock.
    async fn clock_now(&self) -> Result<i64, KmsError> {
        Ok(now_millis().saturating_add(self.store.clock_offset().await?))
    }

    /// The key with its imported material deleted if that expired on the emulator's clock
    /// (decided again on the locked row, so concurrent requests delete it once).
    pub(super) async fn settled_import(&self, key: Key) -> Result<Key, KmsError> {
        if key.origin != "external" || key.wrapped_material.is_none() {
            return Ok(key);
        }
        let (record, now) = self.store.import_record(&key.key_id, now_millis()).await?;
        if !import::expired(&key, record.as_ref(), now) {
            return Ok(key);
        }
        let decide =
            |locked: Option<&Key>, record: Option<&ImportedMaterial>, now: i64| match locked {
                Some(locked) if import::expired(locked, record, now) => {
                    import::plan_deletion(locked, record, Dialect::Aws).map_err(Refusal::Denied)
                }
                Some(locked) => Ok((locked.clone(), record.cloned())),
                None => Err(Refusal::Denied(KmsError::KeyNotFound(
                    key.key_id.to_string(),
                ))),
            };
        let settled = self
            .store
            .change_import(&key.key_id, now_millis(), &decide)
            .await
            .map_err(|error| match error {
                StoreError::Refused(Refusal::Denied(refusal)) => refusal,
                other => other.into(),
            })?;
        tracing::info!(key_id = %settled.key_id, "imported key material expired and was deleted");
        Ok(settled)
    }

    /// get-parameters-for-import / GetParametersForImport: a fresh RSA wrapping key pair
    /// and an import token bound to the key and the wrapping algorithm, valid 24 hours.
    pub async fn parameters_for_import(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: WrappingAlgorithm,
        wrapping_key_spec: WrappingKeySpec,
    ) -> Result<ImportParameters, KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::GetParametersForImport, None)
            .await?;
        import::check_parameters_request(&key)?;
        let (spec, _) = key.spec_and_usage()?;
        if !algorithm.can_wrap(spec) {
            return Err(KmsError::KeyType(KeySpecError::Unsupported {
                field: "WrappingAlgorithm",
                value: algorithm.name().to_owned(),
                reason: "RSA private keys are imported with an RSA_AES_KEY_WRAP wrapping algorithm.",
            }));
        }
        // RSA key generation takes up to seconds: off the async workers.
        let pair = tokio::task::spawn_blocking(move || {
            key_import::generate_wrapping_key_pair(wrapping_key_spec)
        })
        .await
        .map_err(|_| KmsError::Internal)?;
        let import_token = crypto::random_bytes(IMPORT_TOKEN_BYTES);
        let now = self.clock_now().await?;
        let valid_to = now.saturating_add(import::PARAMETERS_VALID_MS);
        let stored = StoredImportToken {
            token_sha256: crypto::sha256_hex(&import_token),
            key_id: key.key_id.to_string(),
            wrapping_algorithm: algorithm.name().to_owned(),
            wrapped_private_key: self.master_key.wrap(&key.key_id, &pair.private_pkcs8_der),
            valid_to,
        };
        self.store.insert_import_token(&stored, now).await?;
        tracing::info!(key_id = %key.key_id, algorithm = algorithm.name(), user_id = %caller.user_id, "import parameters issued");
        Ok(ImportParameters {
            key,
            import_token,
            public_key_der: pair.public_key_der,
            valid_to,
        })
    }

    /// import-key-material / ImportKeyMaterial: unwraps the material with the token's
    /// wrapping key, checks it against the key spec, and stores it on the locked key.
    /// `encrypted_private_key` is Huawei's second part for key pairs (see
    /// `key_import::unwrap_two_part`). Returns the key and the material's identifier.
    pub async fn import_key_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        import_token: &[u8],
        encrypted_key_material: &[u8],
        encrypted_private_key: Option<&[u8]>,
        expiry: ExpiryRequest,
    ) -> Result<(Key, String), KmsError> {
        let action = Action::ImportKeyMaterial;
        let key = self.authorized_key(caller, key_ref, action, None).await?;
        import::ensure_external(&key)?;
        let token = self
            .store
            .find_import_token(&crypto::sha256_hex(import_token))
            .await?
            .ok_or_else(|| {
                KmsError::InvalidImportToken(
                    "it was not issued by get-parameters-for-import of this service.".into(),
                )
            })?;
        let now = self.clock_now().await?;
        import::check_token(&token, &key, now)?;
        let expiration = expiry.resolve(now)?;
        let algorithm = WrappingAlgorithm::parse(Cloud::Aws, &token.wrapping_algorithm)
            .map_err(|_| KmsError::Internal)?;
        let wrapping_private_key = self
            .master_key
            .unwrap(&key.key_id, &token.wrapped_private_key)
            .map_err(|_| {
                tracing::error!(key_id = %key.key_id, "an import token's wrapping key does not open under the master key");
                KmsError::Internal
            })?;
        let (spec, _) = key.spec_and_usage()?;
        let encrypted = encrypted_key_material.to_vec();
        let second = encrypted_private_key.map(<[u8]>::to_vec);
        // RSA decryption of a 4096-bit wrapping key is slow enough to keep off the workers.
        let material = tokio::task::spawn_blocking(move || match second {
            Some(second) => {
                key_import::unwrap_two_part(spec, &wrapping_private_key, &encrypted, &second)
            }
            None => {
                key_import::unwrap_key_material(spec, &wrapping_private_key, algorithm, &encrypted)
            }
        })
        .await
        .map_err(|_| KmsError::Internal)?
        .map_err(import_failure)?;
        let material = zeroize::Zeroizing::new(material);
        let material_id = material_id(&key, &material);
        let wrapped = self.master_key.wrap(&key.key_id, &material);
        let decide = |locked: Option<&Key>, record: Option<&ImportedMaterial>, _now: i64| {
            let locked = self.decide_on_locked_key(caller, action, key_ref, locked)?;
            import::plan_import(locked, record, &material_id, wrapped.clone(), expiration)
                .map(|(key, record)| (key, Some(record)))
                .map_err(Refusal::Denied)
        };
        let result = self
            .store
            .change_import(&key_ref.id, now_millis(), &decide)
            .await;
        let result = self
            .shown_through_grants(caller, key_ref, action, result)
            .await;
        let key = self
            .audited(result, caller, action, &key_ref.id, None)
            .await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "key material imported");
        Ok((key, material_id))
    }

    /// delete-imported-key-material / DeleteImportedKeyMaterial, decided on the locked key.
    /// Returns the key and the identifier of the material it held, if any was ever imported.
    pub async fn delete_imported_key_material(
        &self,
        caller: &Caller,
        dialect: Dialect,
        key_ref: &KeyRef,
    ) -> Result<(Key, Option<String>), KmsError> {
        let action = Action::DeleteImportedKeyMaterial;
        let decide = |locked: Option<&Key>, record: Option<&ImportedMaterial>, _now: i64| {
            let locked = self.decide_on_locked_key(caller, action, key_ref, locked)?;
            import::plan_deletion(locked, record, dialect).map_err(Refusal::Denied)
        };
        let result = self
            .store
            .change_import(&key_ref.id, now_millis(), &decide)
            .await;
        let result = self
            .shown_through_grants(caller, key_ref, action, result)
            .await;
        let key = self
            .audited(result, caller, action, &key_ref.id, None)
            .await?;
        let (record, _) = self.store.import_record(&key.key_id, now_millis()).await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "imported key material deleted");
        Ok((key, record.map(|r| r.material_id)))
    }
}

/// AWS KeyMaterialId: 64 hex digits that depend on the key and the material only, so a
/// re-import of the same material gets the same identifier (and a different material
/// another). Keyed by the key ID, so equal material in two keys is not recognisable.
fn material_id(key: &Key, material: &[u8]) -> String {
    let mut input = Vec::with_capacity(64 + material.len());
    input.extend_from_slice(b"kms-emulator imported key material\0");
    input.extend_from_slice(key.key_id.as_str().as_bytes());
    input.push(0);
    input.extend_from_slice(material);
    let id = crypto::sha256_hex(&input);
    zeroize::Zeroize::zeroize(&mut input);
    id
}
