//! AWS multi-Region keys: ReplicateKey and UpdatePrimaryRegion (CreateKey's `MultiRegion`
//! is in `keys`). The rules and the writes are the service's, shared with the Huawei v2
//! `replicate` and `update-primary-region` operations.

use serde_json::{Value, json};

use super::body::constraint_failed;
use super::call::Call;
use super::error::AwsError;
use super::wire;
use crate::domain::region::is_region_name;
use crate::domain::{Dialect, text};
use crate::service::ReplicateKey;

/// botocore's RegionType: 1–32 characters of `^([a-z]+-){2,3}\d+$` (the emulator's region
/// names are wider: lower-case letters, digits and hyphens). A well-formed region this
/// service does not serve is the service's UnsupportedOperationException, as AWS answers
/// for a Region it does not offer.
fn region_field<'b>(call: &'b Call<'_>, name: &str) -> Result<&'b str, AwsError> {
    let region = call.body.required_bounded_str(name, 1, 32)?;
    if !is_region_name(region) {
        return Err(constraint_failed(
            name,
            region,
            "Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$",
        ));
    }
    Ok(region)
}

/// ReplicateKey: `KeyId` (key ID or ARN of a primary key in this region), `ReplicaRegion`,
/// and the replica's own `Description`, `Policy`, `BypassPolicyLockoutSafetyCheck` and
/// `Tags`. The replica is made in the caller's account, in its project of that region.
pub(super) async fn replicate_key(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let replica_region = region_field(call, "ReplicaRegion")?.to_owned();
    let description = call
        .body
        .optional_text("Description", &text::AWS_DESCRIPTION)?
        .unwrap_or("")
        .to_owned();
    let policy = super::keys::policy_text(call)?.map(str::to_owned);
    let bypass = call
        .body
        .optional_bool("BypassPolicyLockoutSafetyCheck")?
        .unwrap_or(false);
    let tags = super::tags::tag_list(call, "Tags")?.unwrap_or_default();
    let mut replica_caller = call.caller.clone();
    if let Some(project) = call
        .state
        .identities
        .user_by_id(&call.caller.user_id)
        .and_then(|user| call.state.identities.aws_project(user, &replica_region))
    {
        replica_caller.project_id = project.clone();
    }
    replica_caller.region = replica_region.clone();
    let (replica, rows) = call
        .state
        .kms
        .replicate_key(
            &call.caller,
            &named.key,
            ReplicateKey {
                replica_region,
                replica_caller,
                // Huawei keys need a unique alias; AWS keys have none, so one is made up.
                key_alias: format!("aws-key-{}", uuid::Uuid::new_v4().simple()),
                key_description: description,
                policy,
                bypass_policy_lockout_check: bypass,
                tags: tags.clone(),
                dialect: Dialect::Aws,
            },
        )
        .await
        .map_err(call.key_error(&named))?;
    let identities = &call.state.identities;
    let mut metadata = wire::key_metadata(identities, &replica.region, &replica);
    if let Some(configuration) = wire::multi_region_configuration(identities, &replica, &rows) {
        metadata["MultiRegionConfiguration"] = configuration;
    }
    let policy = replica.key_policy.clone().unwrap_or_else(|| {
        crate::domain::authz::KeyPolicy::default_text(&identities.account_of(&replica.domain_id))
    });
    Ok(json!({
        "ReplicaKeyMetadata": metadata,
        "ReplicaPolicy": policy,
        "ReplicaTags": tags
            .iter()
            .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
            .collect::<Vec<_>>(),
    }))
}

/// UpdatePrimaryRegion: `KeyId` (the primary key, in this region) and `PrimaryRegion` (a
/// region where it has a replica). No response body.
pub(super) async fn update_primary_region(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let primary_region = region_field(call, "PrimaryRegion")?;
    call.state
        .kms
        .update_primary_region(&call.caller, &named.key, primary_region)
        .await
        .map_err(call.key_error(&named))?;
    Ok(())
}
