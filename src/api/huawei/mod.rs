//! The Huawei Cloud / OTC KMS dialect: `POST /v1.0/{project_id}/kms/<action>`.
//!
//! This module only translates: the URL's action and the JSON body in, `service::Kms`
//! calls with the core's `Action` and `Dialect::Huawei`, Huawei's JSON and error codes
//! out. Who may do what is decided by the authorization core (`domain::authz`).
//!
//! - `keys`, `grants`, `crypto_ops`, `tags`: the actions, by family.
//!
//! Most actions are one path segment after `kms/`, served on one method. The tag
//! actions put the key ID (and a tag key) in the path: `{key_id}/tags`,
//! `{key_id}/tags/action`, `{key_id}/tags/{key}`, `resource_instances/action`.

mod aliases;
pub mod body;
mod crypto_ops;
pub mod error;
mod grants;
mod import;
mod keys;
mod keyspace;
mod multi_region;
mod rotation;
mod signing;
mod tags;
pub mod wire;

use std::sync::LazyLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use regex::Regex;
use serde_json::json;

use self::body::Body;
use self::error::HuaweiError;
use super::credentials::{self, Request};
use super::{AppState, RequestId};
use crate::domain::authz::Action as CoreAction;
use crate::domain::key_spec::DataKeyPairFamily;
use crate::domain::{Caller, KeyId, KeyRef, KmsError, StateChange};
use crate::service::Deletion;

static PROJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,64}$").unwrap());

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v1.0/{project_id}/kms/{action}", any_method())
        .route("/v1.0/{project_id}/kms/{first}/{second}", any_method())
        .route(
            "/v1.0/{project_id}/kms/{first}/{second}/{third}",
            any_method(),
        )
        // Dedicated key stores live beside kms/, and are out of scope (`not_served`).
        .route("/v1.0/{project_id}/keystores", any_method())
        .route("/v1.0/{project_id}/keystores/{keystore_id}", any_method())
        .route(
            "/v1.0/{project_id}/keystores/{keystore_id}/{operation}",
            any_method(),
        )
        // The v2 paths of the SDK: the served regions and multi-Region keys.
        .route("/v2/{project_id}/kms/regions", any_method_v2())
        .route(
            "/v2/{project_id}/kms/keys/{key_id}/{operation}",
            any_method_v2(),
        )
        .route("/", get(versions))
        .route("/v1.0", get(version))
        .fallback(
            |Extension(id): Extension<RequestId>| async move { error::gateway_not_found(&id.0) },
        )
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// The v2 paths take every method to `dispatch_v2`, which answers KMS.0215 for one
/// the operation is not served on.
fn any_method_v2() -> axum::routing::MethodRouter<AppState> {
    axum::routing::any(dispatch_v2)
}

/// `GET /v2/{project_id}/kms/regions` (ListSupportRegions), and the multi-Region key
/// operations `POST .../keys/{key_id}/replicate` and `PUT .../keys/{key_id}/update-primary-region`
/// (`multi_region`).
async fn dispatch_v2(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    path: Result<Path<Vec<String>>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    let result = async {
        let (project_id, segments) = project_and_segments(path)?;
        let regions = segments.is_empty();
        let expected = match segments.last().map(String::as_str) {
            _ if regions => Method::GET,
            Some("replicate") => Method::POST,
            Some("update-primary-region") => Method::PUT,
            _ => {
                return Err(KmsError::UnknownAction(format!(
                    "v2 kms/{} is not an action of this service.",
                    crate::domain::ids::excerpt(&segments.join("/"))
                )));
            }
        };
        if method != expected {
            return Err(KmsError::MethodNotAllowed);
        }
        let signed_body = credentials::signed_body(request.headers, &body, state.max_body_bytes)?;
        let caller =
            credentials::authenticate(&state, request, signed_body, &project_id, &request_id.0)
                .await?;
        if !regions {
            let body = Body::parse(credentials::read_body(&body, state.max_body_bytes)?)?;
            let key_id = segments.first().map(String::as_str).unwrap_or_default();
            return match segments.last().map(String::as_str) {
                Some("replicate") => {
                    multi_region::replicate_key(&state, &caller, key_id, &body).await
                }
                _ => multi_region::update_primary_region(&state, &caller, key_id, &body).await,
            };
        }
        let regions = state.kms.list_support_regions(&caller).await?;
        ok(json!({ "regions": regions }))
    }
    .await;
    match result {
        Ok(response) => response,
        Err(error) => error::error_response(error, &request_id),
    }
}

/// Every path of the dialect takes POST, GET, PUT and DELETE to `dispatch`, which answers
/// KMS.0215 for a method the action is not served on (PUT for the out-of-scope
/// `key-policies/{policy_id}`, answered as not served); other methods get it here.
fn any_method() -> axum::routing::MethodRouter<AppState> {
    post(dispatch)
        .get(dispatch)
        .put(dispatch)
        .delete(dispatch)
        .fallback(|| async { HuaweiError(KmsError::MethodNotAllowed) })
}

fn version_entry() -> serde_json::Value {
    json!({"id": "v1.0", "links": [{"href": "/v1.0/", "rel": "self"}], "min_version": "",
           "status": "CURRENT", "version": "", "updated": "2018-09-05T08:18:05Z"})
}

/// Huawei's ListVersions, with Keystone's identity v3 entry after KMS's v1.0: this host is
/// also the IAM endpoint, and keystoneauth (openstacksdk, otcextensions) given an
/// `auth_url` without `/v3` reads this list to find it. The Huawei SDK reads `versions` as
/// a list of version objects, which the extra entry still is.
async fn versions(headers: HeaderMap) -> Json<serde_json::Value> {
    Json(json!({"versions": [version_entry(), super::iam::identity_version_entry(&headers)]}))
}

async fn version() -> Json<serde_json::Value> {
    Json(json!({"version": version_entry()}))
}

#[derive(Debug, Clone, Copy)]
enum Action {
    CreateKey,
    DescribeKey,
    ListKeys,
    CreateGrant,
    ListGrants,
    ListRetirableGrants,
    RevokeGrant,
    RetireGrant,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    EncryptData,
    DecryptData,
    CreateDatakey,
    CreateDatakeyWithoutPlaintext,
    EncryptDatakey,
    DecryptDatakey,
    GenRandom,
    Sign,
    Verify,
    GetPublicKey,
    GenerateMac,
    VerifyMac,
    UpdateKeyDescription,
    UserQuotas,
    UserInstances,
    EnableKeyRotation,
    DisableKeyRotation,
    UpdateKeyRotationInterval,
    GetKeyRotationStatus,
    RotateOnDemand,
    ReEncrypt,
    /// GET tags: the project's tag keys with their values.
    ListKmsTags,
    /// POST {key_id}/tags.
    CreateKmsTag,
    /// GET {key_id}/tags.
    ShowKmsTags,
    /// POST {key_id}/tags/action.
    BatchKmsTags,
    /// DELETE {key_id}/tags/{key}.
    DeleteKmsTag,
    /// POST resource_instances/action.
    ListKmsByTags,
    /// POST aliases.
    CreateAlias,
    /// DELETE aliases.
    DeleteAlias,
    /// GET aliases.
    ListAliases,
    /// POST alias/associate.
    AssociateAlias,
    /// POST update-key-alias.
    UpdateKeyAlias,
    /// POST create-rsa-datakey-pair.
    CreateRsaDatakeyPair,
    /// POST create-ec-datakey-pair.
    CreateEcDatakeyPair,
    /// POST derive-shared-secret.
    DeriveSharedSecret,
    GetParametersForImport,
    ImportKeyMaterial,
    DeleteImportedKeyMaterial,
    /// POST key-policies.
    CreateKeyPolicy,
    /// GET key-policies.
    ListKeyPolicy,
    /// GET key-policies/{policy_id}.
    ShowKeyPolicy,
    /// PUT key-policies/{policy_id}.
    UpdateKeyPolicy,
    /// DELETE key-policies/{policy_id}.
    DeleteKeyPolicy,
    /// POST datakey-capsule/create.
    CreateDatakeyCapsule,
    /// POST datakey-capsule/decrypt.
    DecryptDatakeyCapsule,
}

/// What a path names besides its action: the key (`{key_id}/tags...`) and tag key.
#[derive(Debug, Default)]
struct PathParams {
    key_id: Option<String>,
    tag_key: Option<String>,
    /// `key-policies/{policy_id}`.
    policy_id: Option<String>,
}

impl Action {
    /// Every action served, by its name in the path.
    const ALL: [(&'static str, Action); 42] = [
        ("create-key", Self::CreateKey),
        ("describe-key", Self::DescribeKey),
        ("list-keys", Self::ListKeys),
        ("create-grant", Self::CreateGrant),
        ("list-grants", Self::ListGrants),
        ("list-retirable-grants", Self::ListRetirableGrants),
        ("revoke-grant", Self::RevokeGrant),
        ("retire-grant", Self::RetireGrant),
        ("enable-key", Self::EnableKey),
        ("disable-key", Self::DisableKey),
        ("schedule-key-deletion", Self::ScheduleKeyDeletion),
        ("cancel-key-deletion", Self::CancelKeyDeletion),
        ("encrypt-data", Self::EncryptData),
        ("decrypt-data", Self::DecryptData),
        ("create-datakey", Self::CreateDatakey),
        (
            "create-datakey-without-plaintext",
            Self::CreateDatakeyWithoutPlaintext,
        ),
        ("encrypt-datakey", Self::EncryptDatakey),
        ("decrypt-datakey", Self::DecryptDatakey),
        ("gen-random", Self::GenRandom),
        ("sign", Self::Sign),
        ("verify", Self::Verify),
        ("get-publickey", Self::GetPublicKey),
        ("generate-mac", Self::GenerateMac),
        ("verify-mac", Self::VerifyMac),
        ("update-key-description", Self::UpdateKeyDescription),
        ("user-quotas", Self::UserQuotas),
        ("user-instances", Self::UserInstances),
        ("enable-key-rotation", Self::EnableKeyRotation),
        ("disable-key-rotation", Self::DisableKeyRotation),
        (
            "update-key-rotation-interval",
            Self::UpdateKeyRotationInterval,
        ),
        ("get-key-rotation-status", Self::GetKeyRotationStatus),
        ("rotate-on-demand", Self::RotateOnDemand),
        ("re-encrypt", Self::ReEncrypt),
        ("tags", Self::ListKmsTags),
        ("aliases", Self::CreateAlias),
        ("update-key-alias", Self::UpdateKeyAlias),
        ("create-rsa-datakey-pair", Self::CreateRsaDatakeyPair),
        ("create-ec-datakey-pair", Self::CreateEcDatakeyPair),
        ("derive-shared-secret", Self::DeriveSharedSecret),
        ("get-parameters-for-import", Self::GetParametersForImport),
        ("import-key-material", Self::ImportKeyMaterial),
        (
            "delete-imported-key-material",
            Self::DeleteImportedKeyMaterial,
        ),
    ];

    /// The HTTP method the action is served on: GET for the account facts and the tag
    /// listings, DELETE for a tag, as the SDK calls them; POST for the rest.
    fn method(self) -> Method {
        match self {
            Self::UserQuotas | Self::UserInstances | Self::ListKmsTags | Self::ShowKmsTags => {
                Method::GET
            }
            Self::DeleteKmsTag | Self::DeleteAlias | Self::DeleteKeyPolicy => Method::DELETE,
            Self::ListAliases | Self::ListKeyPolicy | Self::ShowKeyPolicy => Method::GET,
            Self::UpdateKeyPolicy => Method::PUT,
            _ => Method::POST,
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(served, _)| *served == name)
            .map(|(_, action)| *action)
    }

    /// The action a path (the segments after `kms/`) names for `method`, with its path
    /// parameters; `Err(true)` when the path is served on other methods only.
    fn route(segments: &[String], method: &Method) -> Result<(Self, PathParams), bool> {
        let none = PathParams::default();
        let key = |key_id: &str| PathParams {
            key_id: Some(key_id.to_owned()),
            ..PathParams::default()
        };
        let found = match segments {
            // One path, three methods (the SDK's create_alias, delete_alias, list_aliases).
            [name] if name == "aliases" => {
                let action = match *method {
                    Method::GET => Self::ListAliases,
                    Method::DELETE => Self::DeleteAlias,
                    _ => Self::CreateAlias,
                };
                Ok((action, none))
            }
            // One path, two methods (the SDK's create_key_policy, list_key_policy).
            [name] if name == "key-policies" => {
                let action = if *method == Method::GET {
                    Self::ListKeyPolicy
                } else {
                    Self::CreateKeyPolicy
                };
                Ok((action, none))
            }
            [first, policy_id] if first == "key-policies" => {
                let action = match *method {
                    Method::GET => Self::ShowKeyPolicy,
                    Method::PUT => Self::UpdateKeyPolicy,
                    _ => Self::DeleteKeyPolicy,
                };
                Ok((
                    action,
                    PathParams {
                        policy_id: Some(policy_id.to_owned()),
                        ..PathParams::default()
                    },
                ))
            }
            [first, second] if first == "datakey-capsule" && second == "create" => {
                Ok((Self::CreateDatakeyCapsule, none))
            }
            [first, second] if first == "datakey-capsule" && second == "decrypt" => {
                Ok((Self::DecryptDatakeyCapsule, none))
            }
            [name] => Self::parse(name).map(|action| (action, none)).ok_or(false),
            [first, second] if first == "alias" && second == "associate" => {
                Ok((Self::AssociateAlias, none))
            }
            [first, second] if first == "resource_instances" && second == "action" => {
                Ok((Self::ListKmsByTags, none))
            }
            [key_id, tags] if tags == "tags" => {
                let action = if *method == Method::GET {
                    Self::ShowKmsTags
                } else {
                    Self::CreateKmsTag
                };
                Ok((action, key(key_id)))
            }
            // POST .../tags/action is the batch; DELETE .../tags/{key} (even a tag
            // named "action") deletes one tag.
            [key_id, tags, third] if tags == "tags" => {
                if *method == Method::DELETE {
                    Ok((
                        Self::DeleteKmsTag,
                        PathParams {
                            key_id: Some(key_id.to_owned()),
                            tag_key: Some(third.to_owned()),
                            policy_id: None,
                        },
                    ))
                } else if third == "action" {
                    Ok((Self::BatchKmsTags, key(key_id)))
                } else {
                    Err(true)
                }
            }
            _ => Err(false),
        }?;
        if found.0.method() == *method {
            Ok(found)
        } else {
            Err(true)
        }
    }
}

/// The features of Huawei's API this emulator leaves out, by the paths of their operations
/// (the SDK's create/list/show/enable/disable/delete_key_store, the access points, create_pin,
/// whose objects trusted key spaces refer to): answered `NotServed`, not as unknown actions.
/// The key policies of trusted key spaces and the data-key capsules are served
/// (`keyspace`), with any well-formed `keyspace_id` accepted.
fn not_served(path: &str, segments: &[String]) -> Option<&'static str> {
    let first = segments.first().map(String::as_str);
    if path.split('/').nth(3) == Some("keystores") {
        return Some("Dedicated key stores (keystores)");
    }
    match first {
        Some("access-points") => Some("Access points"),
        Some("create-pin") => Some("PINs (create-pin)"),
        _ => None,
    }
}

/// The served action names and tag paths, for the health document.
pub fn served_actions() -> impl Iterator<Item = &'static str> {
    Action::ALL.iter().map(|(name, _)| *name).chain([
        "{key_id}/tags",
        "{key_id}/tags/action",
        "{key_id}/tags/{key}",
        "resource_instances/action",
        "alias/associate",
        "key-policies",
        "key-policies/{policy_id}",
        "datakey-capsule/create",
        "datakey-capsule/decrypt",
    ])
}

async fn dispatch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    path: Result<Path<Vec<String>>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    match handle(&state, request, &request_id, path, body).await {
        Ok(response) => response,
        Err(error) => error::error_response(error, &request_id),
    }
}

/// The project ID a path starts with, checked, and the segments after it.
fn project_and_segments(
    path: Result<Path<Vec<String>>, PathRejection>,
) -> Result<(String, Vec<String>), KmsError> {
    let Path(mut segments) =
        path.map_err(|_| KmsError::UnknownAction("the path is not valid UTF-8.".into()))?;
    let project_id = if segments.is_empty() {
        String::new()
    } else {
        segments.remove(0)
    };
    if !PROJECT_ID.is_match(&project_id) {
        return Err(KmsError::UnknownAction(
            "the project ID in the path is malformed.".into(),
        ));
    }
    Ok((project_id, segments))
}

async fn handle(
    state: &AppState,
    request: Request<'_>,
    request_id: &RequestId,
    path: Result<Path<Vec<String>>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, KmsError> {
    let (project_id, segments) = project_and_segments(path)?;
    if let Some(feature) = not_served(request.uri.path(), &segments) {
        // Authenticated like every request: an unsigned caller learns nothing more.
        let signed_body = credentials::signed_body(request.headers, &body, state.max_body_bytes)?;
        credentials::authenticate(state, request, signed_body, &project_id, &request_id.0).await?;
        return Err(KmsError::NotServed(feature));
    }
    let (action, params) = Action::route(&segments, request.method).map_err(|other_method| {
        if other_method {
            KmsError::MethodNotAllowed
        } else {
            KmsError::UnknownAction(format!(
                "kms/{} is not an action of this service.",
                crate::domain::ids::excerpt(&segments.join("/"))
            ))
        }
    })?;
    let signed_body = credentials::signed_body(request.headers, &body, state.max_body_bytes)?;
    let caller =
        credentials::authenticate(state, request, signed_body, &project_id, &request_id.0).await?;
    let bytes = credentials::read_body(&body, state.max_body_bytes)?;
    let body = Body::parse(bytes)?;
    body.check_sequence()?;
    match action {
        Action::CreateKey => keys::create_key(state, &caller, &body).await,
        Action::DescribeKey => keys::describe_key(state, &caller, &body).await,
        Action::ListKeys => keys::list_keys(state, &caller, &body).await,
        Action::CreateGrant => grants::create_grant(state, &caller, &body).await,
        Action::ListGrants => grants::list_grants(state, &caller, &body).await,
        Action::ListRetirableGrants => grants::list_retirable_grants(state, &caller, &body).await,
        Action::RevokeGrant => grants::delete_grant(state, &caller, &body, Deletion::Revoke).await,
        Action::RetireGrant => grants::delete_grant(state, &caller, &body, Deletion::Retire).await,
        Action::EnableKey => keys::change_state(state, &caller, &body, StateChange::Enable).await,
        Action::DisableKey => keys::change_state(state, &caller, &body, StateChange::Disable).await,
        Action::ScheduleKeyDeletion => {
            let change = keys::schedule_deletion_request(&body)?;
            keys::change_state(state, &caller, &body, change).await
        }
        Action::CancelKeyDeletion => {
            keys::change_state(state, &caller, &body, StateChange::CancelDeletion).await
        }
        Action::EncryptData => crypto_ops::encrypt_data(state, &caller, &body).await,
        Action::DecryptData => crypto_ops::decrypt_data(state, &caller, &body).await,
        Action::CreateDatakey => crypto_ops::create_datakey(state, &caller, &body, true).await,
        Action::CreateDatakeyWithoutPlaintext => {
            crypto_ops::create_datakey(state, &caller, &body, false).await
        }
        Action::EncryptDatakey => crypto_ops::encrypt_datakey(state, &caller, &body).await,
        Action::CreateRsaDatakeyPair => {
            crypto_ops::create_datakey_pair(state, &caller, &body, DataKeyPairFamily::Rsa).await
        }
        Action::CreateEcDatakeyPair => {
            crypto_ops::create_datakey_pair(state, &caller, &body, DataKeyPairFamily::Ec).await
        }
        Action::DeriveSharedSecret => signing::derive_shared_secret(state, &caller, &body).await,
        Action::DecryptDatakey => crypto_ops::decrypt_datakey(state, &caller, &body).await,
        Action::GenRandom => crypto_ops::gen_random(state, &caller, &body).await,
        Action::Sign => signing::sign(state, &caller, &body).await,
        Action::Verify => signing::verify(state, &caller, &body).await,
        Action::GetPublicKey => signing::get_public_key(state, &caller, &body).await,
        Action::GenerateMac => signing::generate_mac(state, &caller, &body).await,
        Action::VerifyMac => signing::verify_mac(state, &caller, &body).await,
        Action::UpdateKeyDescription => keys::update_description(state, &caller, &body).await,
        Action::UserQuotas => keys::user_quotas(state, &caller).await,
        Action::UserInstances => keys::user_instances(state, &caller).await,
        Action::EnableKeyRotation => {
            rotation::change(state, &caller, &body, CoreAction::EnableKeyRotation).await
        }
        Action::DisableKeyRotation => {
            rotation::change(state, &caller, &body, CoreAction::DisableKeyRotation).await
        }
        Action::UpdateKeyRotationInterval => {
            rotation::change(state, &caller, &body, CoreAction::UpdateKeyRotationInterval).await
        }
        Action::GetKeyRotationStatus => rotation::status(state, &caller, &body).await,
        Action::RotateOnDemand => rotation::rotate_on_demand(state, &caller, &body).await,
        Action::ReEncrypt => rotation::re_encrypt(state, &caller, &body).await,
        Action::ListKmsTags => tags::list_project_tags(state, &caller).await,
        Action::CreateKmsTag => tags::create_tag(state, &caller, &params, &body).await,
        Action::ShowKmsTags => tags::show_tags(state, &caller, &params).await,
        Action::BatchKmsTags => tags::batch_tags(state, &caller, &params, &body).await,
        Action::DeleteKmsTag => tags::delete_tag(state, &caller, &params).await,
        Action::ListKmsByTags => tags::list_by_tags(state, &caller, &body).await,
        Action::CreateAlias => aliases::create_alias(state, &caller, &body).await,
        Action::DeleteAlias => aliases::delete_aliases(state, &caller, &body).await,
        Action::ListAliases => aliases::list_aliases(state, &caller, request.uri).await,
        Action::AssociateAlias => aliases::associate_alias(state, &caller, &body).await,
        Action::UpdateKeyAlias => aliases::update_key_alias(state, &caller, &body).await,
        Action::GetParametersForImport => {
            import::get_parameters_for_import(state, &caller, &body).await
        }
        Action::ImportKeyMaterial => import::import_key_material(state, &caller, &body).await,
        Action::DeleteImportedKeyMaterial => {
            import::delete_imported_key_material(state, &caller, &body).await
        }
        Action::CreateKeyPolicy => keyspace::create_policy(state, &caller, &body).await,
        Action::ListKeyPolicy => keyspace::list_policies(state, &caller, request.uri).await,
        Action::ShowKeyPolicy => keyspace::show_policy(state, &caller, policy_param(&params)).await,
        Action::UpdateKeyPolicy => {
            keyspace::update_policy(state, &caller, policy_param(&params), &body).await
        }
        Action::DeleteKeyPolicy => {
            keyspace::delete_policy(state, &caller, policy_param(&params)).await
        }
        Action::CreateDatakeyCapsule => keyspace::create_capsule(state, &caller, &body).await,
        Action::DecryptDatakeyCapsule => keyspace::decrypt_capsule(state, &caller, &body).await,
    }
}

fn policy_param(params: &PathParams) -> &str {
    params.policy_id.as_deref().unwrap_or_default()
}

pub(super) fn key_id_field(body: &Body) -> Result<KeyId, KmsError> {
    KeyId::parse(body.required_str("key_id", KmsError::InvalidKeyId)?)
}

/// `key_id` as a key of the URL's project.
pub(super) fn key_field(body: &Body, caller: &Caller) -> Result<KeyRef, KmsError> {
    key_field_in(body, &caller.region)
}

/// `key_id` as a key of a project of `region` (a multi-Region key's row of that region).
pub(super) fn key_field_in(body: &Body, region: &str) -> Result<KeyRef, KmsError> {
    key_id_field(body).map(|id| KeyRef::in_project(id, region))
}

/// Reads a request body for the action named `action` as `handle` and the action's
/// handler do before any store call: the body, `sequence`, then the action's fields.
/// `None` for an unknown action. The pure half of a request, public for the fuzz
/// target `huawei_request`, which needs no server, store or credentials for it.
pub fn decode_request(action: &str, bytes: &[u8]) -> Option<Result<(), KmsError>> {
    use crypto_ops::{
        create_datakey_request, decrypt_data_request, decrypt_datakey_request,
        encrypt_data_request, encrypt_datakey_request, gen_random_request,
    };
    use grants::{GRANT_PAGE_MAX, create_grant_request, grant_request, list_grants_request};
    use keys::{create_key_request, list_keys_request, schedule_deletion_request};
    let action = Action::parse(action)?;
    let decoded = Body::parse(bytes).and_then(|body| {
        body.check_sequence()?;
        match action {
            Action::CreateKey => create_key_request(&body).map(drop),
            Action::DescribeKey
            | Action::EnableKey
            | Action::DisableKey
            | Action::CancelKeyDeletion => key_id_field(&body).map(drop),
            Action::ListKeys => list_keys_request(&body).map(drop),
            Action::CreateGrant => create_grant_request(&body, "").map(drop),
            Action::ListGrants => list_grants_request(&body).map(drop),
            Action::ListRetirableGrants => page_params(&body, GRANT_PAGE_MAX).map(drop),
            Action::RevokeGrant | Action::RetireGrant => grant_request(&body).map(drop),
            Action::ScheduleKeyDeletion => {
                schedule_deletion_request(&body)?;
                key_id_field(&body).map(drop)
            }
            Action::EncryptData => encrypt_data_request(&body).map(drop),
            Action::DecryptData => decrypt_data_request(&body).map(drop),
            Action::CreateDatakey | Action::CreateDatakeyWithoutPlaintext => {
                create_datakey_request(&body).map(drop)
            }
            Action::EncryptDatakey => encrypt_datakey_request(&body).map(drop),
            Action::CreateRsaDatakeyPair => {
                crypto_ops::datakey_pair_request(&body, DataKeyPairFamily::Rsa).map(drop)
            }
            Action::CreateEcDatakeyPair => {
                crypto_ops::datakey_pair_request(&body, DataKeyPairFamily::Ec).map(drop)
            }
            Action::DeriveSharedSecret => signing::derive_request(&body).map(drop),
            Action::DecryptDatakey => decrypt_datakey_request(&body).map(drop),
            Action::GenRandom => gen_random_request(&body).map(drop),
            Action::Sign => signing::signing_request(&body).map(drop),
            Action::Verify => {
                signing::signing_request(&body)?;
                body.required_str("signature", KmsError::InvalidParameter)
                    .map(drop)
            }
            Action::GetPublicKey => key_id_field(&body).map(drop),
            Action::GenerateMac => signing::mac_request(&body).map(drop),
            Action::VerifyMac => {
                signing::mac_request(&body)?;
                body.required_str("mac", KmsError::InvalidParameter)
                    .map(drop)
            }
            Action::UpdateKeyDescription => keys::update_description_request(&body, "").map(drop),
            Action::EnableKeyRotation
            | Action::DisableKeyRotation
            | Action::GetKeyRotationStatus
            | Action::RotateOnDemand => key_id_field(&body).map(drop),
            Action::UpdateKeyRotationInterval => {
                rotation::change_request(&body, CoreAction::UpdateKeyRotationInterval).map(drop)
            }
            Action::ReEncrypt => rotation::re_encrypt_request(&body).map(drop),
            Action::UserQuotas | Action::UserInstances | Action::ListKmsTags => Ok(()),
            Action::ShowKmsTags | Action::DeleteKmsTag => Ok(()),
            Action::CreateKmsTag => tags::create_tag_request(&body).map(drop),
            Action::BatchKmsTags => tags::batch_request(&body).map(drop),
            Action::ListKmsByTags => tags::by_tags_request(&body).map(drop),
            Action::CreateAlias
            | Action::DeleteAlias
            | Action::ListAliases
            | Action::AssociateAlias => Ok(()),
            Action::UpdateKeyAlias => aliases::update_key_alias_request(&body, "").map(drop),
            Action::GetParametersForImport => import::parameters_request(&body).map(drop),
            Action::ImportKeyMaterial => import::import_request(&body).map(drop),
            Action::DeleteImportedKeyMaterial => key_id_field(&body).map(drop),
            Action::CreateKeyPolicy => keyspace::create_request(&body).map(drop),
            Action::UpdateKeyPolicy => keyspace::update_request(&body).map(drop),
            Action::ListKeyPolicy | Action::ShowKeyPolicy | Action::DeleteKeyPolicy => Ok(()),
            Action::CreateDatakeyCapsule => keyspace::capsule_request(&body, "").map(drop),
            Action::DecryptDatakeyCapsule => keyspace::decrypt_request(&body, "").map(drop),
        }
    });
    Some(decoded)
}

/// `(after, limit)` from the `marker` and `limit` fields. Markers are the positions
/// that `next_marker` hands out (keyset pagination), so a page never skips or repeats
/// a grant when others are revoked in between; "0" or none starts at the beginning.
pub(super) fn page_params(body: &Body, max_limit: i64) -> Result<(i64, u32), KmsError> {
    let limit = body
        .optional_integer("limit", KmsError::InvalidLimit)?
        .unwrap_or(max_limit.min(1000));
    if !(1..=max_limit).contains(&limit) {
        return Err(KmsError::InvalidLimit(format!(
            "limit must be between 1 and {max_limit}, not {limit}."
        )));
    }
    let after = body
        .optional_integer("marker", KmsError::InvalidMarker)?
        .unwrap_or(0);
    if after < 0 {
        return Err(KmsError::InvalidMarker(format!("marker is {after}.")));
    }
    Ok((after, limit as u32))
}

/// The `limit` of a GET listing's query string: `default` when absent or empty, else a number
/// from 1 to `max`.
pub(super) fn query_limit(
    query: &std::collections::HashMap<String, String>,
    default: i64,
    max: i64,
) -> Result<i64, KmsError> {
    match query.get("limit").filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                KmsError::InvalidLimit(format!(
                    "limit must be between 1 and {max}, not {}.",
                    crate::domain::ids::excerpt(v)
                ))
            }),
    }
}

pub(super) fn ok<T: serde::Serialize>(value: T) -> Result<Response, KmsError> {
    Ok(Json(value).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str, method: Method) -> Result<(Action, Option<String>, Option<String>), bool> {
        let segments: Vec<String> = path.split('/').map(str::to_owned).collect();
        Action::route(&segments, &method).map(|(a, p)| (a, p.key_id, p.tag_key))
    }

    #[test]
    fn paths_with_parameters_route_by_method() {
        let key = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
        let k = || Some(key.to_owned());
        assert!(
            matches!(route(&format!("{key}/tags"), Method::POST), Ok((Action::CreateKmsTag, ref id, None)) if *id == k())
        );
        assert!(matches!(
            route(&format!("{key}/tags"), Method::GET),
            Ok((Action::ShowKmsTags, _, None))
        ));
        assert!(matches!(
            route(&format!("{key}/tags/action"), Method::POST),
            Ok((Action::BatchKmsTags, _, None))
        ));
        // DELETE of a tag named "action" deletes that tag.
        assert!(
            matches!(route(&format!("{key}/tags/action"), Method::DELETE), Ok((Action::DeleteKmsTag, _, Some(ref t))) if t == "action")
        );
        assert!(route(&format!("{key}/tags/action"), Method::GET).unwrap_err());
        assert!(route(&format!("{key}/tags/env"), Method::POST).unwrap_err());
        assert!(matches!(
            route("resource_instances/action", Method::POST),
            Ok((Action::ListKmsByTags, None, None))
        ));
        assert!(matches!(
            route("aliases", Method::GET),
            Ok((Action::ListAliases, ..))
        ));
        assert!(matches!(
            route("aliases", Method::DELETE),
            Ok((Action::DeleteAlias, ..))
        ));
        assert!(matches!(
            route("aliases", Method::POST),
            Ok((Action::CreateAlias, ..))
        ));
        assert!(matches!(
            route("alias/associate", Method::POST),
            Ok((Action::AssociateAlias, ..))
        ));
        assert!(matches!(
            route("tags", Method::GET),
            Ok((Action::ListKmsTags, ..))
        ));
        assert!(route("tags", Method::POST).unwrap_err());
        assert!(route("create-key", Method::DELETE).unwrap_err());
        assert!(!route("no/such/path", Method::POST).unwrap_err());
        assert!(!route("nothing", Method::POST).unwrap_err());
    }

    #[test]
    fn decode_request_applies_each_actions_rules() {
        assert_eq!(decode_request("no-such-action", b"{}"), None);
        assert_eq!(
            decode_request("create-key", br#"{"key_alias":"a"}"#),
            Some(Ok(()))
        );
        assert_eq!(
            decode_request("create-key", b"{}"),
            Some(Err(KmsError::MissingParameter("key_alias")))
        );
        assert_eq!(
            decode_request("gen-random", br#"{"random_data_length": 12}"#),
            Some(Err(KmsError::RandomLengthNotByteAligned))
        );
        assert_eq!(
            decode_request("list-keys", br#"{"sequence": "short"}"#),
            Some(Err(KmsError::InvalidSequence))
        );
        assert!(matches!(
            decode_request("schedule-key-deletion", br#"{"pending_days": "6"}"#),
            Some(Err(KmsError::InvalidPendingDays(_)))
        ));
        assert!(matches!(
            decode_request("decrypt-data", br#"{"cipher_text": "AAAA"}"#),
            Some(Err(KmsError::InvalidCipherText(_)))
        ));
    }
}
