//! Key rotation, the emulator's clock and re-encryption (issue 12).
//!
//! A rotation adds a version of a key's material (`domain::rotation`); encryption uses the
//! newest, decryption the one the ciphertext's frame names. Scheduled rotations are applied
//! lazily, in the store's transaction on the locked key, by the first request that uses the
//! key for encryption or reads its rotation after the clock passed the due date.

use super::{Kms, now_millis, unopenable};
use crate::crypto;
use crate::domain::authz::{Action, KeyNaming};
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

    /// New material for a version of `key`, wrapped for that version.
    fn new_version_material(&self, key: &crate::domain::KeyId, version: u32) -> Vec<u8> {
        let material = crypto::random_bytes(crypto::KEY_BYTES);
        self.master_key.wrap_version(key, version, &material)
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
        let decide = |key: Option<&Key>, state: &RotationState| {
            let key = self.decide_on_locked_key(caller, action, key_ref, key)?;
            rotation::plan(key, state, change).map_err(Refusal::Denied)
        };
        let wrap = |version: u32| self.new_version_material(&key_ref.id, version);
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
        let wrap = |version: u32| self.new_version_material(&key.key_id, version);
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
        Ok(self.store.rotating_keys(&caller.project_id).await?)
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

    /// re-encrypt / ReEncrypt: decrypts under the key the ciphertext names (ReEncryptFrom,
    /// with `source_context`) and encrypts under `destination` (ReEncryptTo, with
    /// `destination_context`), without the plaintext leaving the service. Both keys are
    /// authorized before anything is decrypted; with `dry_run` the checks are all that runs.
    /// Returns the source key, the destination key and the new ciphertext.
    #[allow(clippy::too_many_arguments)]
    pub async fn re_encrypt(
        &self,
        caller: &Caller,
        source: Option<&KeyRef>,
        frame: &[u8],
        source_context: &[u8],
        destination: &KeyRef,
        destination_context: &[u8],
        dry_run: bool,
    ) -> Result<(Key, Key, Vec<u8>), KmsError> {
        let (source_key, source_material) = self
            .frame_material(caller, source, frame, source_context, Action::ReEncryptFrom)
            .await?;
        let (destination_key, first) = self
            .material_for(
                caller,
                destination,
                Action::ReEncryptTo,
                destination_context,
            )
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let plaintext =
            crypto::decrypt_framed(&source_key.key_id, &source_material, frame, source_context)
                .map_err(|_| unopenable())?;
        let (version, material) = self.current_material(&destination_key, first).await?;
        let new_frame = crypto::encrypt_framed_version(
            &destination_key.key_id,
            version,
            &material,
            &plaintext,
            destination_context,
        );
        self.record_use(caller, &source_key, Action::ReEncryptFrom)
            .await;
        self.record_use(caller, &destination_key, Action::ReEncryptTo)
            .await;
        Ok((source_key, destination_key, new_frame))
    }
}
