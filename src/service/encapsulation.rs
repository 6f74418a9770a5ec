//! Encapsulate and Decapsulate with ML-KEM key pairs (AWS only: Huawei has no ML-KEM
//! keys). Both are cryptographic uses of the key: authorized as their own actions
//! (`kms:Encapsulate`, `kms:Decapsulate`, grantable), refused on a key of another usage
//! (InvalidKeyUsageException), and recorded for GetKeyLastUsage when they succeed.

use super::{Kms, key_type_failure};
use crate::crypto;
use crate::crypto::encapsulation::Encapsulated;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, EncapsulationAlgorithm, KeySpec};
use crate::domain::{Caller, Key, KeyRef, KmsError};

impl Kms {
    /// The ML-KEM key for `action`, authorized, usable, with the algorithm checked.
    async fn encapsulation_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        algorithm: EncapsulationAlgorithm,
        cloud: Cloud,
    ) -> Result<(Key, KeySpec, Vec<u8>), KmsError> {
        let (key, material) = self.material_for(caller, key_ref, action, &[]).await?;
        let (spec, usage) = key.spec_and_usage()?;
        spec.check_encapsulation_algorithm(usage, algorithm, cloud)
            .map_err(KmsError::KeyType)?;
        Ok((key, spec, material))
    }

    /// Encapsulate: a fresh 32-byte shared secret and its ML-KEM ciphertext under the
    /// key's public half. With `dry_run`, every check runs and nothing is made.
    pub async fn encapsulate(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: EncapsulationAlgorithm,
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Encapsulated), KmsError> {
        let (key, spec, material) = self
            .encapsulation_material(caller, key_ref, Action::Encapsulate, algorithm, cloud)
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let sealed = crypto::encapsulation::encapsulate(spec, &material)
            .map_err(|error| key_type_failure(&key, error))?;
        self.record_use(caller, &key, Action::Encapsulate).await;
        Ok((key, sealed))
    }

    /// Decapsulate: the shared secret of `ciphertext`. AWS: a ciphertext whose length does
    /// not fit the key spec is InvalidCiphertextException (checked before a dry run
    /// answers, since the request would not succeed); any other ciphertext gives a 32-byte
    /// secret, the implicit-rejection one when the ciphertext was not made for this key.
    #[allow(clippy::too_many_arguments)]
    pub async fn decapsulate(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: EncapsulationAlgorithm,
        ciphertext: &[u8],
        dry_run: bool,
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, spec, material) = self
            .encapsulation_material(caller, key_ref, Action::Decapsulate, algorithm, cloud)
            .await?;
        let expected = spec.ml_kem_ciphertext_len().ok_or(KmsError::Internal)?;
        if ciphertext.len() != expected {
            return Err(KmsError::InvalidCipherText(format!(
                "a {spec} ciphertext is {expected} bytes; this one is {} bytes.",
                ciphertext.len()
            )));
        }
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let secret = crypto::encapsulation::decapsulate(spec, &material, ciphertext)
            .map_err(|error| key_type_failure(&key, error))?;
        self.record_use(caller, &key, Action::Decapsulate).await;
        Ok((key, secret))
    }
}
