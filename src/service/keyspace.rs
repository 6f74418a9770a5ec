//! Key policies of trusted key spaces and data-key capsules (Huawei `key-policies`,
//! `datakey-capsule/create`, `datakey-capsule/decrypt`). The rules are `domain::keyspace`'s;
//! every operation is an action of the authorization core. A capsule is a framed
//! ciphertext of the data key made by the ordinary data-key path under the named key
//! (symmetric keys only), sealed with the capsule's binding (policy ID or inline policy)
//! as additional data, so neither the key, the data key nor the binding can be changed.

use super::{Kms, frame_cipher, now_millis, unopenable};
use crate::crypto;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, KeyFamily, KeySpecError};
use crate::domain::keyspace::{CapsuleBinding, KeyspacePolicy, PolicyDocument};
use crate::domain::{Caller, Key, KeyRef, KmsError};

/// What create-datakey-capsule answers: the key, the data key in the clear or encrypted
/// to the caller's RSA key, and the capsule.
pub struct NewCapsule {
    pub key: Key,
    pub datakey: DataKeyOut,
    pub capsule: Vec<u8>,
}

/// A data key as answered: plain, or RSAES-OAEP-SHA-256 encrypted to the request's key.
pub enum DataKeyOut {
    Plain(Vec<u8>),
    Cipher(Vec<u8>),
}

/// What decrypt-datakey-capsule answers.
pub struct OpenedCapsule {
    pub key: Key,
    pub instance_id: String,
    pub datakey: DataKeyOut,
}

/// The attestation a decrypt request brings, as the emulator reads it (see
/// `domain::keyspace`): the access point or zone it names and its expiry.
pub struct Attestation {
    pub service_token: String,
    pub expires_ms: Option<i64>,
}

impl Kms {
    async fn keyspace_now(&self) -> Result<i64, KmsError> {
        Ok(now_millis().saturating_add(self.store.clock_offset().await?))
    }

    pub async fn create_keyspace_policy(
        &self,
        caller: &Caller,
        keyspace_id: &str,
        policy_name: &str,
        document: &PolicyDocument,
        description: &str,
    ) -> Result<KeyspacePolicy, KmsError> {
        self.decide_keyless(caller, Action::CreateKeyspacePolicy)
            .await?;
        let now = self.keyspace_now().await?;
        let policy = KeyspacePolicy {
            policy_id: uuid::Uuid::new_v4().to_string(),
            project_id: caller.project_id.clone(),
            region: caller.region.clone(),
            keyspace_id: keyspace_id.to_ascii_lowercase(),
            policy_name: policy_name.to_owned(),
            policy: document.to_text(),
            description: description.to_owned(),
            created_by: caller.user_id.clone(),
            create_time: now,
            last_modify_time: now,
            last_access_time: None,
        };
        self.store.insert_keyspace_policy(&policy).await?;
        tracing::info!(policy_id = %policy.policy_id, user_id = %caller.user_id, "key policy created");
        Ok(policy)
    }

    pub async fn list_keyspace_policies(
        &self,
        caller: &Caller,
        keyspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<KeyspacePolicy>, Option<String>), KmsError> {
        self.decide_keyless(caller, Action::ListKeyspacePolicies)
            .await?;
        Ok(self
            .store
            .list_keyspace_policies(
                &caller.project_id,
                &caller.region,
                &keyspace_id.to_ascii_lowercase(),
                after,
                limit,
            )
            .await?)
    }

    pub async fn show_keyspace_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
    ) -> Result<KeyspacePolicy, KmsError> {
        self.decide_keyless(caller, Action::ShowKeyspacePolicy)
            .await?;
        self.stored_policy(caller, policy_id).await
    }

    async fn stored_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
    ) -> Result<KeyspacePolicy, KmsError> {
        self.store
            .find_keyspace_policy(&caller.project_id, &caller.region, policy_id)
            .await?
            .ok_or_else(|| KmsError::KeyspacePolicyNotFound(policy_id.to_owned()))
    }

    pub async fn update_keyspace_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
        document: Option<&PolicyDocument>,
        description: Option<&str>,
    ) -> Result<KeyspacePolicy, KmsError> {
        self.decide_keyless(caller, Action::UpdateKeyspacePolicy)
            .await?;
        let now = self.keyspace_now().await?;
        let text = document.map(PolicyDocument::to_text);
        let updated = self
            .store
            .update_keyspace_policy(
                &caller.project_id,
                &caller.region,
                policy_id,
                text.as_deref(),
                description,
                now,
            )
            .await?
            .ok_or_else(|| KmsError::KeyspacePolicyNotFound(policy_id.to_owned()))?;
        tracing::info!(policy_id, user_id = %caller.user_id, "key policy updated");
        Ok(updated)
    }

    pub async fn delete_keyspace_policy(
        &self,
        caller: &Caller,
        policy_id: &str,
    ) -> Result<(), KmsError> {
        self.decide_keyless(caller, Action::DeleteKeyspacePolicy)
            .await?;
        if !self
            .store
            .delete_keyspace_policy(&caller.project_id, &caller.region, policy_id)
            .await?
        {
            return Err(KmsError::KeyspacePolicyNotFound(policy_id.to_owned()));
        }
        tracing::info!(policy_id, user_id = %caller.user_id, "key policy deleted");
        Ok(())
    }

    /// The key's material for a capsule action: authorized by the core, usable, and a
    /// symmetric key (whose framed ciphertexts capsules are).
    async fn capsule_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        additional_data: &[u8],
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, first) = self
            .material_for(caller, key_ref, action, additional_data)
            .await?;
        let (spec, usage) = key.spec_and_usage()?;
        if spec.family() != KeyFamily::Symmetric {
            return Err(KmsError::KeyType(KeySpecError::OperationNotAllowed {
                operation: "data key capsules",
                spec: spec.name(Cloud::Huawei).to_owned(),
                usage: usage.name().to_owned(),
            }));
        }
        Ok((key, first))
    }

    /// datakey-capsule/create: a new data key of `length` bytes, sealed under the key with
    /// `binding`. A policy named by ID must exist in the caller's project and region.
    pub async fn create_datakey_capsule(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        length: usize,
        public_key_der: Option<&[u8]>,
        binding: CapsuleBinding,
    ) -> Result<NewCapsule, KmsError> {
        if let CapsuleBinding::PolicyId(id) = &binding {
            self.stored_policy(caller, id).await?;
        }
        let additional_data = binding.additional_data();
        let (key, first) = self
            .capsule_material(
                caller,
                key_ref,
                Action::CreateDatakeyCapsule,
                &additional_data,
            )
            .await?;
        let data_key = crypto::random_bytes(length);
        let datakey = out(public_key_der, data_key.clone())?;
        let (version, material) = self.current_material(&key, first).await?;
        let frame = crypto::encrypt_framed_version(
            frame_cipher(&key)?,
            &key.key_id,
            version,
            &material,
            &data_key,
            &additional_data,
        );
        if let CapsuleBinding::PolicyId(id) = &binding {
            self.touch_policy(id).await;
        }
        Ok(NewCapsule {
            key,
            datakey,
            capsule: binding.seal(&frame),
        })
    }

    /// datakey-capsule/decrypt: opens a capsule the key sealed, when its policy admits the
    /// attestation now (emulator clock). A capsule that was not made by this service under
    /// the key, or was altered, is KMS.2201 like any unopenable ciphertext.
    pub async fn decrypt_datakey_capsule(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        capsule: &[u8],
        public_key_der: Option<&[u8]>,
        attestation: &Attestation,
    ) -> Result<OpenedCapsule, KmsError> {
        let (binding, frame) = CapsuleBinding::open(capsule).ok_or_else(unopenable)?;
        let additional_data = binding.additional_data();
        let (key, first) = self
            .capsule_material(
                caller,
                key_ref,
                Action::DecryptDatakeyCapsule,
                &additional_data,
            )
            .await?;
        let version = crypto::framed_key_version(frame)
            .map_err(|_| unopenable())?
            .1;
        let material = self.version_material(&key, version, first).await?;
        let data_key = crypto::decrypt_framed(
            frame_cipher(&key)?,
            &key.key_id,
            &material,
            frame,
            &additional_data,
        )
        .map_err(|_| unopenable())?;
        // The policy as it is now: an update or deletion applies to capsules made before.
        let document = match &binding {
            CapsuleBinding::PolicyId(id) => {
                let stored = self.stored_policy(caller, id).await?;
                PolicyDocument::parse(&stored.policy).map_err(|error| {
                    tracing::error!(policy_id = %id, %error, "a stored key policy does not parse");
                    KmsError::Internal
                })?
            }
            CapsuleBinding::Inline(text) => {
                PolicyDocument::parse(text).map_err(|_| unopenable())?
            }
        };
        let now = self.keyspace_now().await?;
        let instance_id = document
            .admit(now, &attestation.service_token, attestation.expires_ms)
            .map_err(|denial| KmsError::CapsuleDenied(denial.to_string()))?;
        if let CapsuleBinding::PolicyId(id) = &binding {
            self.touch_policy(id).await;
        }
        Ok(OpenedCapsule {
            key,
            instance_id,
            datakey: out(public_key_der, data_key)?,
        })
    }

    /// Records the policy's use; a failure is logged, not answered (the operation succeeded).
    async fn touch_policy(&self, policy_id: &str) {
        let now = match self.keyspace_now().await {
            Ok(now) => now,
            Err(_) => now_millis(),
        };
        if let Err(error) = self.store.touch_keyspace_policy(policy_id, now).await {
            tracing::warn!(policy_id, %error, "the key policy's last access was not recorded");
        }
    }
}

/// The data key as answered: encrypted to the client's RSA public key when one is given.
fn out(public_key_der: Option<&[u8]>, data_key: Vec<u8>) -> Result<DataKeyOut, KmsError> {
    match public_key_der {
        None => Ok(DataKeyOut::Plain(data_key)),
        Some(der) => crypto::asymmetric_encryption::encrypt_to_client_rsa_key(der, &data_key)
            .map(DataKeyOut::Cipher)
            .map_err(|error| KmsError::InvalidParameter(format!("public_key: {error}."))),
    }
}
