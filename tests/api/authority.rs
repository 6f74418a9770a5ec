//! Authority like the real clouds, through both dialects: identity policies (in either
//! cloud's language), AWS key policies and grants, decided by one core.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::helpers::aws::{
    AWS_ALICE, AWS_BOB, AWS_CAROL, AWS_DAVE, AWS_ERIN, AWS_FRANK, Aws, aws, aws_error,
};
use crate::helpers::{ALICE, BOB, CAROL, DAVE, ERIN, Reply, TestApp, User};

fn key_arn(key_id: &str) -> String {
    format!("arn:aws:kms:eu-de:111122223333:key/{key_id}")
}

#[track_caller]
fn access_denied(reply: &Reply, contains: &str) {
    aws_error(reply, "AccessDeniedException");
    let message = reply.body["Message"].as_str().unwrap_or_default();
    assert!(
        message.contains(contains),
        "{message:?} should contain {contains:?}"
    );
}

/// The seeds' example inside one account, Huawei dialect: A (alice, an administrator)
/// creates a key and grants B (bob, no KMS permission) the use of it, C (carol, no KMS
/// permission) may retire; "after the grant is retired, user B cannot use key A".
async fn the_seeds_story_holds_inside_one_account(app: &TestApp) {
    let key_id = app.create_key(ALICE, "seeds").await;
    let encrypt = |user: User| {
        app.call(
            user,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "payroll"}),
        )
    };
    // Without a grant, bob may not touch the key of his own project.
    encrypt(BOB).await.error(403, "KMS.0306");
    app.call(BOB, "describe-key", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    let grant = app
        .create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": BOB.id,
            "operations": ["describe-key", "encrypt-data", "decrypt-data"], "retiring_principal": CAROL.id}))
        .await;
    let cipher = encrypt(BOB).await.ok()["cipher_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let decrypt = || app.call(BOB, "decrypt-data", json!({"cipher_text": cipher}));
    assert_eq!(decrypt().await.ok()["plain_text"], "payroll");
    app.call(BOB, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
    // The grant gives what it holds and nothing else.
    app.call(BOB, "disable-key", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    app.call(BOB, "create-datakey", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    // C retires with no KMS permission of her own; B loses the key at once.
    app.call(
        CAROL,
        "retire-grant",
        json!({"key_id": key_id, "grant_id": grant}),
    )
    .await
    .ok();
    encrypt(BOB).await.error(403, "KMS.0306");
    decrypt().await.error(403, "KMS.0306");
    // The read-only user sees the key but may not use it; the administrator may.
    app.call(DAVE, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
    encrypt(DAVE).await.error(403, "KMS.0306");
    encrypt(ALICE).await.ok();
}

/// The same story through the AWS dialect.
async fn the_seeds_story_holds_inside_one_account_through_aws(app: &TestApp) {
    let key = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone();
    let encrypt = |who: Aws| {
        aws(
            app,
            who,
            "Encrypt",
            json!({"KeyId": key["KeyId"], "Plaintext": "cGF5cm9sbA=="}),
        )
    };
    access_denied(
        &encrypt(AWS_BOB).await,
        "because no identity-based policy allows the kms:Encrypt action",
    );
    let grant = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_BOB.arn,
        "Operations": ["Encrypt", "Decrypt", "DescribeKey"], "RetiringPrincipal": AWS_CAROL.arn}),
    )
    .await
    .ok()
    .clone();
    let blob = encrypt(AWS_BOB).await.ok()["CiphertextBlob"].clone();
    let decrypt = || aws(app, AWS_BOB, "Decrypt", json!({"CiphertextBlob": blob}));
    assert_eq!(decrypt().await.ok()["Plaintext"], "cGF5cm9sbA==");
    access_denied(
        &aws(app, AWS_BOB, "DisableKey", json!({"KeyId": key["KeyId"]})).await,
        "kms:DisableKey on resource:",
    );
    aws(
        app,
        AWS_CAROL,
        "RetireGrant",
        json!({"GrantToken": grant["GrantToken"]}),
    )
    .await
    .ok();
    access_denied(&encrypt(AWS_BOB).await, "kms:Encrypt");
    access_denied(&decrypt().await, "kms:Decrypt");
    // Named by its ARN in the caller's own account: still AccessDenied, not NotFound.
    access_denied(
        &aws(app, AWS_BOB, "DescribeKey", json!({"KeyId": key["Arn"]})).await,
        "kms:DescribeKey",
    );
}

/// The issue's example of the dialects disagreeing: a grantee whose grant allows Decrypt
/// only with `{"app":"payroll"}` passes on no more than that, through either API, and its
/// grant is enforced with Huawei's `encryption_context` too.
async fn a_constrained_grant_binds_in_both_dialects(app: &TestApp) {
    let key = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone();
    let key_id = key["KeyId"].as_str().unwrap();
    let payroll = json!({"app": "payroll"});
    let hr = json!({"app": "hr"});
    aws(app, AWS_ALICE, "CreateGrant", json!({"KeyId": key_id, "GranteePrincipal": AWS_BOB.arn,
        "Operations": ["Decrypt", "CreateGrant"], "Constraints": {"EncryptionContextEquals": payroll}}))
        .await
        .ok();
    let blob = |context: &Value| {
        aws(
            app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": key_id, "Plaintext": "c2VjcmV0", "EncryptionContext": context}),
        )
    };
    let payroll_blob = blob(&payroll).await.ok()["CiphertextBlob"].clone();
    let hr_blob = blob(&hr).await.ok()["CiphertextBlob"].clone();
    // Huawei create-grant of the same key to himself, without the constraint: refused.
    app.call(
        BOB,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["decrypt-data"]}),
    )
    .await
    .error(403, "KMS.0306");
    // AWS: refused without the constraint, allowed with it.
    access_denied(
        &aws(app, AWS_BOB, "CreateGrant", json!({"KeyId": key["Arn"], "GranteePrincipal": AWS_CAROL.arn, "Operations": ["Decrypt"]})).await,
        "kms:CreateGrant",
    );
    aws(
        app,
        AWS_BOB,
        "CreateGrant",
        json!({"KeyId": key["Arn"], "GranteePrincipal": AWS_CAROL.arn,
        "Operations": ["Decrypt"], "Constraints": {"EncryptionContextEquals": payroll}}),
    )
    .await
    .ok();
    // Use under the constraint, in both dialects.
    aws(
        app,
        AWS_BOB,
        "Decrypt",
        json!({"CiphertextBlob": payroll_blob, "EncryptionContext": payroll}),
    )
    .await
    .ok();
    access_denied(
        &aws(
            app,
            AWS_BOB,
            "Decrypt",
            json!({"CiphertextBlob": hr_blob, "EncryptionContext": hr}),
        )
        .await,
        "kms:Decrypt",
    );
    let huawei_cipher = |blob: &Value| {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(blob.as_str().unwrap())
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    app.call(
        BOB,
        "decrypt-data",
        json!({"cipher_text": huawei_cipher(&payroll_blob), "encryption_context": payroll}),
    )
    .await
    .ok();
    app.call(
        BOB,
        "decrypt-data",
        json!({"cipher_text": huawei_cipher(&hr_blob), "encryption_context": hr}),
    )
    .await
    .error(403, "KMS.0306");
    // Carol's sub-grant carries the constraint in Huawei's listing of it too.
    let listed = aws(
        app,
        AWS_ALICE,
        "ListGrants",
        json!({"KeyId": key_id, "GranteePrincipal": AWS_CAROL.arn}),
    )
    .await;
    assert_eq!(
        listed.ok()["Grants"][0]["Constraints"],
        json!({"EncryptionContextEquals": payroll})
    );
}

/// The README's authority table: a grant made through one dialect, used, revoked and
/// retired through the other. With `--everyone-admin`, so a non-creator administrator
/// (dave) shows where the clouds' rules differ.
async fn grants_cross_the_dialects_as_the_authority_table_says(app: &TestApp) {
    let key_id = app.create_key(ALICE, "table").await;
    let key_id = key_id.as_str();
    let huawei_grant = |grantee: &str| {
        app.create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": grantee, "operations": ["encrypt-data", "decrypt-data", "retire-grant"],
                   "retiring_principal": CAROL.id}),
        )
    };
    let aws_grant = |grantee: Aws| async move {
        aws(
            app,
            AWS_ALICE,
            "CreateGrant",
            json!({"KeyId": key_id, "GranteePrincipal": grantee.arn,
            "Operations": ["Encrypt", "Decrypt"], "RetiringPrincipal": AWS_CAROL.arn}),
        )
        .await
        .ok()["GrantId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let by_ids = |grant: &str| json!({"KeyId": key_id, "GrantId": grant});
    let huawei_ids = |grant: &str| json!({"key_id": key_id, "grant_id": grant});

    // Made through Huawei, used through AWS (Encrypt is encrypt-data).
    let g = huawei_grant(ERIN.id).await;
    aws(
        app,
        AWS_ERIN,
        "Encrypt",
        json!({"KeyId": key_arn(key_id), "Plaintext": "eA=="}),
    )
    .await
    .ok();
    // Made through AWS, used through Huawei.
    let g2 = aws_grant(AWS_FRANK).await;
    app.call(
        crate::helpers::FRANK,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x"}),
    )
    .await
    .ok();
    // Revoke: Huawei's rule (only the key's creator) against AWS's (the permission).
    app.call(DAVE, "revoke-grant", huawei_ids(&g))
        .await
        .error(403, "KMS.0306");
    aws(app, AWS_DAVE, "RevokeGrant", by_ids(&g)).await.ok();
    app.call(ALICE, "revoke-grant", huawei_ids(&g2)).await.ok();
    // Retire: Huawei lets the issuer retire; AWS lets the key's account retire with
    // kms:RetireGrant; neither lets an administrator who is not a party retire through Huawei.
    let g3 = aws_grant(AWS_ERIN).await;
    app.call(DAVE, "retire-grant", huawei_ids(&g3))
        .await
        .error(403, "KMS.0306");
    aws(app, AWS_DAVE, "RetireGrant", by_ids(&g3)).await.ok();
    let g4 = aws_grant(AWS_ERIN).await;
    app.call(ALICE, "retire-grant", huawei_ids(&g4)).await.ok();
    let g5 = huawei_grant(BOB.id).await;
    aws(app, AWS_CAROL, "RetireGrant", by_ids(&g5)).await.ok();
    let g6 = huawei_grant(BOB.id).await;
    aws(app, AWS_BOB, "RetireGrant", by_ids(&g6)).await.ok();
    assert!(app.grant_ids(key_id).await.is_empty());
}

/// Key policies: get, put, list, the lockout check, invalid principals, a policy that
/// gives another account's user the key, and an explicit deny.
async fn key_policies_as_aws_serves_them(app: &TestApp) {
    let key = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone();
    let key_id = key["KeyId"].as_str().unwrap();
    let policy = aws(app, AWS_DAVE, "GetKeyPolicy", json!({"KeyId": key_id})).await;
    assert_eq!(policy.ok()["PolicyName"], "default");
    let text: Value = serde_json::from_str(policy.body["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        text["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    let names = aws(app, AWS_DAVE, "ListKeyPolicies", json!({"KeyId": key_id})).await;
    assert_eq!(names.ok()["PolicyNames"], json!(["default"]));
    assert_eq!(names.body["Truncated"], false);
    aws_error(
        &aws(
            app,
            AWS_DAVE,
            "GetKeyPolicy",
            json!({"KeyId": key_id, "PolicyName": "other"}),
        )
        .await,
        "NotFoundException",
    );
    let put = |who: Aws, policy: Value, extra: Value| {
        let mut body = json!({"KeyId": key_id, "Policy": policy.to_string()});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        aws(app, who, "PutKeyPolicy", body)
    };
    let root = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"});
    access_denied(
        &put(AWS_DAVE, json!({"Statement": [root]}), json!({})).await,
        "because no identity-based policy allows the kms:PutKeyPolicy action",
    );
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "PutKeyPolicy",
            json!({"KeyId": key_id, "Policy": "{not json"}),
        )
        .await,
        "MalformedPolicyDocumentException",
    );
    let ghost = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/ghost"}, "Action": "kms:*", "Resource": "*"});
    let reply = put(AWS_ALICE, json!({"Statement": [root, ghost]}), json!({})).await;
    aws_error(&reply, "MalformedPolicyDocumentException");
    assert!(reply.raw.contains("invalid principals"), "{}", reply.raw);
    let only_bob = json!({"Effect": "Allow", "Principal": {"AWS": AWS_BOB.arn}, "Action": "kms:*", "Resource": "*"});
    let reply = put(AWS_ALICE, json!({"Statement": [only_bob]}), json!({})).await;
    aws_error(&reply, "MalformedPolicyDocumentException");
    assert!(
        reply
            .raw
            .contains("will not allow you to update the key policy"),
        "{}",
        reply.raw
    );
    let huge = json!({"Statement": [root], "Id": "x".repeat(33_000)});
    aws_error(
        &put(AWS_ALICE, huge, json!({})).await,
        "LimitExceededException",
    );
    // Another account's user, named directly, with an explicit deny for a key operation.
    let erin = json!({"Effect": "Allow", "Principal": {"AWS": AWS_ERIN.arn}, "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"});
    let deny = json!({"Effect": "Deny", "Principal": {"AWS": AWS_ALICE.arn}, "Action": "kms:ScheduleKeyDeletion", "Resource": "*"});
    put(
        AWS_ALICE,
        json!({"Version": "2012-10-17", "Statement": [root, erin, deny]}),
        json!({}),
    )
    .await
    .ok();
    aws(
        app,
        AWS_ERIN,
        "Encrypt",
        json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
    )
    .await
    .ok();
    // The key policy makes the key visible to erin in the Huawei dialect too.
    app.call(
        ERIN,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x"}),
    )
    .await
    .ok();
    // frank's account is named nowhere; he is not erin.
    access_denied(
        &aws(
            app,
            AWS_FRANK,
            "Encrypt",
            json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
        )
        .await,
        "on this resource because the resource does not exist in this Region",
    );
    access_denied(
        &aws(
            app,
            AWS_ALICE,
            "ScheduleKeyDeletion",
            json!({"KeyId": key_id}),
        )
        .await,
        "with an explicit deny in a resource-based policy",
    );
    // Bypassing the lockout check locks the key's administration out, as AWS warns.
    put(
        AWS_ALICE,
        json!({"Statement": [only_bob]}),
        json!({"BypassPolicyLockoutSafetyCheck": true}),
    )
    .await
    .ok();
    access_denied(
        &put(AWS_ALICE, json!({"Statement": [root]}), json!({})).await,
        "because no resource-based policy allows the kms:PutKeyPolicy action",
    );
    // bob, named directly in his own account, needs no IAM permission.
    aws(app, AWS_BOB, "DescribeKey", json!({"KeyId": key_id}))
        .await
        .ok();
}

/// CreateKey with a Policy, and the lockout check there.
async fn create_key_takes_a_policy(app: &TestApp) {
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": AWS_ERIN.arn}, "Action": "kms:Decrypt", "Resource": "*"}]});
    let key = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Policy": policy.to_string()}),
    )
    .await
    .ok()["KeyMetadata"]
        .clone();
    let got = aws(
        app,
        AWS_ALICE,
        "GetKeyPolicy",
        json!({"KeyId": key["KeyId"], "PolicyName": "default"}),
    )
    .await;
    assert_eq!(got.ok()["Policy"], policy.to_string());
    let locked_out = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": AWS_BOB.arn}, "Action": "kms:*", "Resource": "*"}]});
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "CreateKey",
            json!({"Policy": locked_out.to_string()}),
        )
        .await,
        "MalformedPolicyDocumentException",
    );
}

/// Actions on no key: create-key, list-keys, gen-random, list-retirable-grants.
async fn actions_on_no_key_need_an_identity_policy(app: &TestApp) {
    app.call(BOB, "create-key", json!({"key_alias": "mine"}))
        .await
        .error(403, "KMS.0307");
    app.call(BOB, "list-keys", json!({}))
        .await
        .error(403, "KMS.0307");
    app.call(BOB, "gen-random", json!({"random_data_length": 256}))
        .await
        .error(403, "KMS.0307");
    app.call(DAVE, "list-keys", json!({})).await.ok();
    app.call(DAVE, "create-key", json!({"key_alias": "mine"}))
        .await
        .error(403, "KMS.0307");
    access_denied(
        &aws(app, AWS_BOB, "CreateKey", json!({})).await,
        "is not authorized to perform: kms:CreateKey because no identity-based policy allows the kms:CreateKey action",
    );
    aws(app, AWS_DAVE, "ListKeys", json!({})).await.ok();
    let random = aws(
        app,
        AWS_ALICE,
        "GenerateRandom",
        json!({"NumberOfBytes": 32}),
    )
    .await;
    assert_eq!(random.ok()["Plaintext"].as_str().unwrap().len(), 44);
    access_denied(
        &aws(app, AWS_BOB, "GenerateRandom", json!({"NumberOfBytes": 32})).await,
        "kms:GenerateRandom",
    );
    // ListRetirableGrants is for principals of the caller's own account.
    access_denied(
        &aws(
            app,
            AWS_DAVE,
            "ListRetirableGrants",
            json!({"RetiringPrincipal": AWS_ERIN.arn}),
        )
        .await,
        "kms:ListRetirableGrants",
    );
}

crate::on_every_backend!(
    the_seeds_story_holds_inside_one_account,
    the_seeds_story_holds_inside_one_account_through_aws,
    a_constrained_grant_binds_in_both_dialects,
    key_policies_as_aws_serves_them,
    create_key_takes_a_policy,
    actions_on_no_key_need_an_identity_policy,
);

mod everyone_admin {
    use super::*;
    crate::on_every_backend!(
        with_config = |config: &mut kms_emulator::Config| config.everyone_admin = true;
        grants_cross_the_dialects_as_the_authority_table_says,
        everyone_is_an_administrator,
    );
}

/// `--everyone-admin`: bob and carol may create keys, but grant rules still hold.
async fn everyone_is_an_administrator(app: &TestApp) {
    let key_id = app.create_key(BOB, "bobs").await;
    app.call(
        CAROL,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x"}),
    )
    .await
    .ok();
    let grant = app
        .create_grant(
            BOB,
            json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
        )
        .await;
    // Only the key's creator revokes through Huawei, administrator or not.
    app.call(
        CAROL,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant}),
    )
    .await
    .error(403, "KMS.0306");
}

// ---- The matrix: {identity policy allow/deny/none} x {key policy allow/deny/default} x
// {grant yes/no/constrained} x {same account, other account}, through both dialects.

/// Users of two accounts with each identity-policy state. Account A's are written in
/// Huawei's language, account B's in AWS's, so both languages decide.
const MATRIX_IDENTITIES: &str = r#"{
  "domains": [
    {"id": "owneracct", "name": "owner", "aws_account_id": "111100001111"},
    {"id": "otheracct", "name": "other", "aws_account_id": "222200002222"}],
  "projects": [
    {"id": "ownerproject", "name": "eu-de", "domain_id": "owneracct"},
    {"id": "otherproject", "name": "eu-de", "domain_id": "otheracct"}],
  "users": [
    {"id": "owner", "name": "owner", "domain_id": "owneracct", "projects": ["ownerproject"],
     "policies": ["KMS Administrator"], "tokens": [{"token": "t-owner"}],
     "access_keys": [{"access_key": "AKMATRIXOWNER0000001", "secret_key": "s-owner"}]},
    {"id": "aallow", "name": "aallow", "domain_id": "owneracct", "projects": ["ownerproject"],
     "policies": [{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:*:*"]}]}],
     "tokens": [{"token": "t-aallow"}],
     "access_keys": [{"access_key": "AKMATRIXAALLOW000002", "secret_key": "s-aallow"}]},
    {"id": "adeny", "name": "adeny", "domain_id": "owneracct", "projects": ["ownerproject"],
     "policies": [{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:*:*"]},
                                                   {"Effect": "Deny", "Action": ["kms:cmk:encryptData"]}]}],
     "tokens": [{"token": "t-adeny"}],
     "access_keys": [{"access_key": "AKMATRIXADENY0000003", "secret_key": "s-adeny"}]},
    {"id": "anone", "name": "anone", "domain_id": "owneracct", "projects": ["ownerproject"],
     "tokens": [{"token": "t-anone"}],
     "access_keys": [{"access_key": "AKMATRIXANONE0000004", "secret_key": "s-anone"}]},
    {"id": "ballow", "name": "ballow", "domain_id": "otheracct", "projects": ["otherproject"],
     "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}],
     "tokens": [{"token": "t-ballow"}],
     "access_keys": [{"access_key": "AKMATRIXBALLOW000005", "secret_key": "s-ballow"}]},
    {"id": "bdeny", "name": "bdeny", "domain_id": "otheracct", "projects": ["otherproject"],
     "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                                                          {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}]}],
     "tokens": [{"token": "t-bdeny"}],
     "access_keys": [{"access_key": "AKMATRIXBDENY0000006", "secret_key": "s-bdeny"}]},
    {"id": "bnone", "name": "bnone", "domain_id": "otheracct", "projects": ["otherproject"],
     "tokens": [{"token": "t-bnone"}],
     "access_keys": [{"access_key": "AKMATRIXBNONE0000007", "secret_key": "s-bnone"}]}
  ]
}"#;

pub(crate) fn matrix_identities() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "kms-matrix-identities-{}.json",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, MATRIX_IDENTITIES).unwrap();
        path
    })
    .clone()
}

struct MatrixUser {
    id: &'static str,
    token: &'static str,
    project: &'static str,
    aws: Aws,
}

const fn matrix_user(
    id: &'static str,
    token: &'static str,
    project: &'static str,
    access_key: &'static str,
    secret_key: &'static str,
    arn: &'static str,
) -> MatrixUser {
    MatrixUser {
        id,
        token,
        project,
        aws: Aws {
            access_key,
            secret_key,
            arn,
        },
    }
}

const OWNER: MatrixUser = matrix_user(
    "owner",
    "t-owner",
    "ownerproject",
    "AKMATRIXOWNER0000001",
    "s-owner",
    "arn:aws:iam::111100001111:user/owner",
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Allow,
    Deny,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPolicy {
    AllowsCaller,
    DeniesCaller,
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrantCase {
    Yes,
    No,
    ConstrainedMatching,
    ConstrainedOther,
}

fn matrix_caller(identity: Identity, same_account: bool) -> MatrixUser {
    match (identity, same_account) {
        (Identity::Allow, true) => matrix_user(
            "aallow",
            "t-aallow",
            "ownerproject",
            "AKMATRIXAALLOW000002",
            "s-aallow",
            "arn:aws:iam::111100001111:user/aallow",
        ),
        (Identity::Deny, true) => matrix_user(
            "adeny",
            "t-adeny",
            "ownerproject",
            "AKMATRIXADENY0000003",
            "s-adeny",
            "arn:aws:iam::111100001111:user/adeny",
        ),
        (Identity::None, true) => matrix_user(
            "anone",
            "t-anone",
            "ownerproject",
            "AKMATRIXANONE0000004",
            "s-anone",
            "arn:aws:iam::111100001111:user/anone",
        ),
        (Identity::Allow, false) => matrix_user(
            "ballow",
            "t-ballow",
            "otherproject",
            "AKMATRIXBALLOW000005",
            "s-ballow",
            "arn:aws:iam::222200002222:user/ballow",
        ),
        (Identity::Deny, false) => matrix_user(
            "bdeny",
            "t-bdeny",
            "otherproject",
            "AKMATRIXBDENY0000006",
            "s-bdeny",
            "arn:aws:iam::222200002222:user/bdeny",
        ),
        (Identity::None, false) => matrix_user(
            "bnone",
            "t-bnone",
            "otherproject",
            "AKMATRIXBNONE0000007",
            "s-bnone",
            "arn:aws:iam::222200002222:user/bnone",
        ),
    }
}

/// The documented rules as a table: an explicit deny anywhere refuses; a key policy
/// naming the caller allows in its account, and with an IAM allow from another; the
/// default key policy lets the key's account's IAM policies decide; a grant allows what
/// it holds under its constraint.
fn allowed(
    identity: Identity,
    key_policy: KeyPolicy,
    grant: GrantCase,
    same_account: bool,
) -> bool {
    if identity == Identity::Deny || key_policy == KeyPolicy::DeniesCaller {
        return false;
    }
    let by_policy = match key_policy {
        KeyPolicy::AllowsCaller => same_account || identity == Identity::Allow,
        KeyPolicy::Default => same_account && identity == Identity::Allow,
        KeyPolicy::DeniesCaller => false,
    };
    by_policy || matches!(grant, GrantCase::Yes | GrantCase::ConstrainedMatching)
}

async fn every_combination_of_policies_grants_and_accounts(app: &TestApp) {
    let payroll = json!({"app": "payroll"});
    let hr = json!({"app": "hr"});
    let root = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111100001111:root"}, "Action": "kms:*", "Resource": "*"});
    let mut cells = 0;
    for same_account in [true, false] {
        for identity in [Identity::Allow, Identity::Deny, Identity::None] {
            let who = matrix_caller(identity, same_account);
            for key_policy in [
                KeyPolicy::AllowsCaller,
                KeyPolicy::DeniesCaller,
                KeyPolicy::Default,
            ] {
                for grant in [
                    GrantCase::Yes,
                    GrantCase::No,
                    GrantCase::ConstrainedMatching,
                    GrantCase::ConstrainedOther,
                ] {
                    let cell = format!(
                        "identity {identity:?}, key policy {key_policy:?}, grant {grant:?}, same account {same_account}"
                    );
                    let created = app
                        .post(
                            OWNER.project,
                            "create-key",
                            Some(OWNER.token),
                            &json!({"key_alias": format!("m{cells}")}),
                        )
                        .await;
                    let key_id = created.ok()["key_info"]["key_id"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    let arn = format!("arn:aws:kms:eu-de:111100001111:key/{key_id}");
                    let statements = match key_policy {
                        KeyPolicy::Default => None,
                        KeyPolicy::AllowsCaller => Some(json!([root,
                            {"Effect": "Allow", "Principal": {"AWS": who.aws.arn}, "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"}])),
                        KeyPolicy::DeniesCaller => Some(json!([root,
                            {"Effect": "Allow", "Principal": {"AWS": who.aws.arn}, "Action": "kms:*", "Resource": "*"},
                            {"Effect": "Deny", "Principal": {"AWS": who.aws.arn}, "Action": "kms:Encrypt", "Resource": "*"}])),
                    };
                    if let Some(statements) = statements {
                        let policy =
                            json!({"Version": "2012-10-17", "Statement": statements}).to_string();
                        aws(
                            app,
                            OWNER.aws,
                            "PutKeyPolicy",
                            json!({"KeyId": key_id, "Policy": policy}),
                        )
                        .await
                        .ok();
                    }
                    let context = if grant == GrantCase::ConstrainedOther {
                        &hr
                    } else {
                        &payroll
                    };
                    match grant {
                        GrantCase::No => {}
                        // Made through Huawei: no constraint.
                        GrantCase::Yes => {
                            app.post(OWNER.project, "create-grant", Some(OWNER.token),
                                &json!({"key_id": key_id, "grantee_principal": who.id, "operations": ["encrypt-data"]}))
                                .await
                                .ok();
                        }
                        // Made through AWS, with a constraint.
                        GrantCase::ConstrainedMatching | GrantCase::ConstrainedOther => {
                            aws(app, OWNER.aws, "CreateGrant", json!({"KeyId": key_id, "GranteePrincipal": who.aws.arn,
                                "Operations": ["Encrypt"], "Constraints": {"EncryptionContextEquals": payroll}}))
                                .await
                                .ok();
                        }
                    }
                    let huawei = app
                        .post(who.project, "encrypt-data", Some(who.token),
                            &json!({"key_id": key_id, "plain_text": "x", "encryption_context": context}))
                        .await;
                    let through_aws = aws(
                        app,
                        who.aws,
                        "Encrypt",
                        json!({"KeyId": arn, "Plaintext": "eA==", "EncryptionContext": context}),
                    )
                    .await;
                    let expected = allowed(identity, key_policy, grant, same_account);
                    assert_eq!(
                        huawei.status == 200,
                        expected,
                        "Huawei, {cell}: {}",
                        huawei.raw
                    );
                    assert_eq!(
                        through_aws.status == 200,
                        expected,
                        "AWS, {cell}: {}",
                        through_aws.raw
                    );
                    if !expected {
                        // Huawei hides a key of another account from a caller that neither a
                        // grant nor the key policy names; AWS names it by ARN and says nothing.
                        let visible = same_account
                            || grant != GrantCase::No
                            || key_policy != KeyPolicy::Default;
                        if visible {
                            huawei.error(403, "KMS.0306");
                        } else {
                            huawei.error(404, "KMS.0207");
                        }
                        aws_error(&through_aws, "AccessDeniedException");
                    }
                    cells += 1;
                }
            }
        }
    }
    assert_eq!(cells, 72);
}

mod matrix {
    use super::*;
    crate::on_every_backend!(
        with_config = |config: &mut kms_emulator::Config| {
            config.identities = Some(crate::authority::matrix_identities())
        };
        every_combination_of_policies_grants_and_accounts,
    );
}
