//! Key rotation, the emulator's clock and re-encryption (issue 12).
//!
//! A rotation adds a version of a key's material (`domain::rotation`); encryption uses the
//! newest, decryption the one the ciphertext's frame names. Scheduled rotations are applied
//! lazily, in the store's transaction on the locked key, by the first request that uses the
//! key for encryption or reads its rotation after the clock passed the due date.

use super::{Kms, frame_cipher, key_type_failure, now_millis, unopenable};
use crate::crypto;
use crate::domain::authz::{Action, KeyNaming};
use crate::domain::key_spec::{Cloud, EncryptionAlgorithm, KeySpec};
use crate::domain::rotation::{self, KeyRotation, RotationChange, RotationState};
use crate::domain::{Caller, Key, KeyRef, KmsError, Page};
use crate::store::{Refusal, StoreError};

/// A key and its rotation, as the status operations show them.
pub struct KeyRotationStatus {
    pub key: Key,
    pub state: RotationState,
}

impl Kms {
    /// The emulator clock's offset from system time, in ms.
    pub async fn clock_offset(&self) -> Result<i64, StoreError> {
        self.store.clock_offset().await
    }

    /// Moves the emulator's clock forward by `delta_ms` (`None`: back to system time).
    /// Returns the new offset.
    pub async fn move_clock(&self, delta_ms: Option<i64>) -> Result<i64, StoreError> {
        self.store.move_clock(delta_ms).await
    }

    /// New material for a version of `key`, as long as its spec's (32 bytes of AES-256,
    /// 16 of SM4), wrapped for that version. Only symmetric keys rotate (`rotation::plan`
    /// refuses the others before this runs).
    fn new_version_material(&self, key: &Key, version: u32) -> Vec<u8> {
        let length = KeySpec::from_stored(&key.key_spec)
            .and_then(KeySpec::generated_secret_len)
            .unwrap_or(crypto::KEY_BYTES);
        let material = crypto::random_bytes(length);
        self.master_key
            .wrap_version(&key.key_id, version, &material)
    }

    /// enable-key-rotation, disable-key-rotation, update-key-rotation-interval and
    /// rotate-on-demand (and their AWS twins), decided on the locked key. Refusals are
    /// answered as the caller's grants let it see the key, and audited.
    pub async fn change_rotation(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        change: RotationChange,
    ) -> Result<KeyRotationStatus, KmsError> {
        // A multi-Region replica's material follows its primary's: its rotation is the
        // primary's to change (AWS UnsupportedOperationException).
        let refusal = self.multi_region_rule(key_ref, caller, false).await?;
        let decide = |key: Option<&Key>, state: &RotationState| {
            let key = self.decide_on_locked_key(caller, action, key_ref, key)?;
            if let Some(error) = &refusal {
                return Err(Refusal::Denied(error.clone()));
            }
            rotation::plan(key, state, change).map_err(Refusal::Denied)
        };
        let wrap = |key: &Key, version: u32| self.new_version_material(key, version);
        let result = self
            .store
            .change_rotation(&key_ref.id, now_millis(), &decide, &wrap)
            .await;
        let (result, state) = match result {
            Ok((key, state)) => (Ok(key), Some(state)),
            Err(error) => (Err(error), None),
        };
        let result = self
            .shown_through_grants(caller, key_ref, action, result)
            .await;
        let key = self
            .audited(result, caller, action, &key_ref.id, None)
            .await?;
        let state = state.ok_or(KmsError::Internal)?;
        tracing::info!(key_id = %key.key_id, action = %action, version = state.latest_version, user_id = %caller.user_id, "key rotation changed");
        Ok(KeyRotationStatus { key, state })
    }

    /// The key's rotation state now, after applying the scheduled rotations that are due.
    async fn settled_rotation(&self, key: &Key) -> Result<RotationState, KmsError> {
        let state = self.store.rotation_state(&key.key_id, now_millis()).await?;
        if !state.due(key) {
            return Ok(state);
        }
        let decide = |locked: Option<&Key>, state: &RotationState| match locked {
            Some(locked) => {
                rotation::plan(locked, state, RotationChange::Settle).map_err(Refusal::Denied)
            }
            None => Err(Refusal::Denied(KmsError::KeyNotFound(
                key.key_id.to_string(),
            ))),
        };
        let wrap = |key: &Key, version: u32| self.new_version_material(key, version);
        let (_, state) = self
            .store
            .change_rotation(&key.key_id, now_millis(), &decide, &wrap)
            .await
            .map_err(|error| match error {
                StoreError::Refused(Refusal::Denied(refusal)) => refusal,
                other => other.into(),
            })?;
        tracing::info!(key_id = %key.key_id, version = state.latest_version, "scheduled key rotation applied");
        Ok(state)
    }

    /// get-key-rotation-status / GetKeyRotationStatus: the key's rotation, with due
    /// rotations applied. Keys that cannot rotate are refused (AWS UnsupportedOperationException).
    pub async fn rotation_status(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
    ) -> Result<KeyRotationStatus, KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::GetKeyRotationStatus, None)
            .await?;
        rotation::check_rotatable(&key)?;
        let state = self.settled_rotation(&key).await?;
        Ok(KeyRotationStatus { key, state })
    }

    /// ListKeyRotations: the key's rotations, oldest first, with due rotations applied.
    pub async fn list_rotations(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        after: i64,
        limit: u32,
    ) -> Result<(Key, Page<KeyRotation>), KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::ListKeyRotations, None)
            .await?;
        rotation::check_rotatable(&key)?;
        self.settled_rotation(&key).await?;
        let page = self.store.list_rotations(&key.key_id, after, limit).await?;
        Ok((key, page))
    }

    /// Whether automatic rotation is enabled for the key (Huawei describe-key).
    pub async fn rotation_enabled(&self, key: &Key) -> Result<bool, KmsError> {
        Ok(self
            .store
            .rotation_state(&key.key_id, now_millis())
            .await?
            .enabled())
    }

    /// The IDs of the caller's project's keys with automatic rotation enabled (list-keys).
    pub async fn rotating_keys(&self, caller: &Caller) -> Result<Vec<String>, KmsError> {
        // As clients name them: a multi-Region key's row without its region.
        Ok(self
            .store
            .rotating_keys(&caller.project_id)
            .await?
            .into_iter()
            .map(|id| match id.split_once('@') {
                Some((public, _)) => public.to_owned(),
                None => id,
            })
            .collect())
    }

    /// The newest material of a symmetric key, for a new ciphertext: `(version, material)`.
    /// `first` is version 0, already unwrapped.
    pub(super) async fn current_material(
        &self,
        key: &Key,
        first: Vec<u8>,
    ) -> Result<(u32, Vec<u8>), KmsError> {
        let state = self.settled_rotation(key).await?;
        let version = state.latest_version;
        Ok((version, self.version_material(key, version, first).await?))
    }

    /// The material of version `version` of a key, for a ciphertext that names it;
    /// `first` is version 0. A version the key does not have is an unopenable ciphertext.
    pub(super) async fn version_material(
        &self,
        key: &Key,
        version: u32,
        first: Vec<u8>,
    ) -> Result<Vec<u8>, KmsError> {
        if version == 0 {
            return Ok(first);
        }
        let wrapped = self
            .store
            .version_material(&key.key_id, version)
            .await?
            .ok_or_else(unopenable)?;
        self.master_key
            .unwrap_version(&key.key_id, version, &wrapped)
            .map_err(|_| {
                tracing::error!(key_id = %key.key_id, version, "key material version does not open under the configured master key");
                KmsError::Internal
            })
    }

    /// The key a ciphertext names, authorized for `action`, and the material version that
    /// made it. A ciphertext naming a key the caller cannot see gets the answer garbage gets.
    pub(super) async fn frame_material(
        &self,
        caller: &Caller,
        expected: Option<&KeyRef>,
        frame: &[u8],
        context: &[u8],
        action: Action,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (framed, version) = crypto::framed_key_version(frame).map_err(|_| unopenable())?;
        // A multi-Region key's ciphertext names the shared ID: it opens with the key's row
        // in the caller's region, the primary's or a replica's alike.
        let framed = framed.in_region(&caller.region);
        let key_ref = match expected {
            Some(expected) if expected.id != framed => return Err(KmsError::IncorrectKey),
            Some(expected) => expected.clone(),
            None => KeyRef {
                id: framed,
                naming: KeyNaming::Issued,
            },
        };
        let (key, first) = match self.material_for(caller, &key_ref, action, context).await {
            Err(KmsError::KeyNotFound(_)) if key_ref.naming == KeyNaming::Issued => {
                return Err(unopenable());
            }
            other => other?,
        };
        let material = self.version_material(&key, version, first).await?;
        Ok((key, material))
    }

    /// re-encrypt / ReEncrypt: decrypts under the source key (ReEncryptFrom, with the
    /// source's context) and encrypts under the destination key (ReEncryptTo, with the
    /// destination's), without the plaintext leaving the service. Each side has its
    /// algorithm: SYMMETRIC_DEFAULT is a frame of a symmetric key (the source key comes
    /// from the frame and must match `source.key` if given); RSAES-OAEP and SM2 are the
    /// bare ciphertexts of an ENCRYPT_DECRYPT key pair, whose source key must be named,
    /// as in Encrypt and Decrypt. Both keys are authorized and their algorithms checked
    /// before anything is decrypted; with `dry_run` the checks are all that runs.
    /// Returns the source key, the destination key and the new ciphertext.
    pub async fn re_encrypt(
        &self,
        caller: &Caller,
        source: ReEncryptSide<'_>,
        ciphertext: &[u8],
        destination: ReEncryptSide<'_>,
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Key, Vec<u8>), KmsError> {
        let from = if source.algorithm == EncryptionAlgorithm::SymmetricDefault {
            let (key, material) = self
                .frame_material(
                    caller,
                    source.key,
                    ciphertext,
                    source.context,
                    Action::ReEncryptFrom,
                )
                .await?;
            Opener::Frame(key, material)
        } else {
            let key_ref = source.key.ok_or(KmsError::MissingParameter(match cloud {
                Cloud::Aws => "SourceKeyId",
                Cloud::Huawei => "source_key_id",
            }))?;
            let (key, spec, material) = self
                .asymmetric_material(
                    caller,
                    key_ref,
                    Action::ReEncryptFrom,
                    source.algorithm,
                    source.context,
                    cloud,
                )
                .await?;
            Opener::Pair(key, spec, material)
        };
        let destination_ref = destination
            .key
            .ok_or(KmsError::MissingParameter(match cloud {
                Cloud::Aws => "DestinationKeyId",
                Cloud::Huawei => "destination_key_id",
            }))?;
        let to_key = if destination.algorithm == EncryptionAlgorithm::SymmetricDefault {
            let (key, first) = self
                .material_for(
                    caller,
                    destination_ref,
                    Action::ReEncryptTo,
                    destination.context,
                )
                .await?;
            Sealer::Frame(key, first)
        } else {
            let (key, spec, material) = self
                .asymmetric_material(
                    caller,
                    destination_ref,
                    Action::ReEncryptTo,
                    destination.algorithm,
                    destination.context,
                    cloud,
                )
                .await?;
            Sealer::Pair(key, spec, material)
        };
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let (source_key, plaintext) = match from {
            Opener::Frame(key, material) => {
                let plaintext = crypto::decrypt_framed(
                    frame_cipher(&key)?,
                    &key.key_id,
                    &material,
                    ciphertext,
                    source.context,
                )
                .map_err(|_| unopenable())?;
                (key, plaintext)
            }
            Opener::Pair(key, spec, material) => {
                let plaintext = crypto::asymmetric_encryption::decrypt(
                    spec,
                    &material,
                    source.algorithm,
                    ciphertext,
                )
                .map_err(|_| unopenable())?;
                (key, plaintext)
            }
        };
        let (destination_key, new_ciphertext) = match to_key {
            Sealer::Frame(key, first) => {
                let (version, material) = self.current_material(&key, first).await?;
                let new_frame = crypto::encrypt_framed_version(
                    frame_cipher(&key)?,
                    &key.key_id,
                    version,
                    &material,
                    &plaintext,
                    destination.context,
                );
                (key, new_frame)
            }
            Sealer::Pair(key, spec, material) => {
                // The plaintext's length is known only now: a destination key pair too
                // small for it is the request's error, as in Encrypt.
                spec.check_plaintext_len(destination.algorithm, plaintext.len(), cloud)
                    .map_err(KmsError::KeyType)?;
                let new_ciphertext = crypto::asymmetric_encryption::encrypt(
                    spec,
                    &material,
                    destination.algorithm,
                    &plaintext,
                )
                .map_err(|error| key_type_failure(&key, error))?;
                (key, new_ciphertext)
            }
        };
        self.record_use(caller, &source_key, Action::ReEncryptFrom)
            .await;
        self.record_use(caller, &destination_key, Action::ReEncryptTo)
            .await;
        Ok((source_key, destination_key, new_ciphertext))
    }
}

/// One side of a re-encryption: the key (the source's is optional for a frame, which
/// names its key), the algorithm and the context (additional data).
#[derive(Clone, Copy)]
pub struct ReEncryptSide<'a> {
    pub key: Option<&'a KeyRef>,
    pub algorithm: EncryptionAlgorithm,
    pub context: &'a [u8],
}

/// How the source ciphertext opens: a frame under a symmetric key's material version, or
/// a key pair's bare ciphertext.
enum Opener {
    Frame(Key, Vec<u8>),
    Pair(Key, KeySpec, Vec<u8>),
}

/// How the new ciphertext is made: a frame under the symmetric key (its first material,
/// the current version is read when sealing), or with a key pair's public half.
enum Sealer {
    Frame(Key, Vec<u8>),
    Pair(Key, KeySpec, Vec<u8>),
}
