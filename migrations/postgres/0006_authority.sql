-- The authorization core: key policies, typed retiring principals, and which API made a grant.

-- The key policy a user put (JSON text). Null is the default policy, under which the key's
-- account decides with its IAM policies; GetKeyPolicy shows it with the key's account.
alter table kms_key add column key_policy text;

-- 'user' or 'domain' (an AWS account root), like grantee_principal_type, so a user ID is never
-- compared with an account ID. Null on rows made before it was recorded: those named users
-- (the Huawei dialect took user IDs only; see the README's upgrade note).
alter table kms_grant add column retiring_principal_type text;

-- 'huawei' or 'aws': the API through which the grant was created. Null on older rows.
alter table kms_grant add column dialect text;

-- list-retirable-grants of an account's principals reads by type too.
create index kms_grant_by_retiring on kms_grant (retiring_principal, retiring_principal_type, seq)
    where retiring_principal is not null;
