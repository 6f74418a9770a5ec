-- Keys and grants of the Huawei/OTC KMS dialect.
-- `seq` gives every row a stable position: list pages are keyset-paginated on it.

-- One row per project that owns keys. Creating a key locks this row, so the
-- per-project key limit and alias uniqueness hold across processes.
create table kms_project (
    project_id text primary key
);

create table kms_key (
    key_id text primary key,
    seq bigserial not null unique,
    project_id text not null references kms_project (project_id),
    domain_id text not null,
    creator_user_id text not null,
    key_alias text not null,
    key_description text not null,
    key_spec text not null,
    key_usage text not null,
    origin text not null,
    key_state bigint not null,
    creation_date bigint not null,
    scheduled_deletion_date bigint,
    unique (project_id, key_alias)
);

create index kms_key_by_project on kms_key (project_id, seq);

-- "grant" is a reserved word, hence the prefix.
create table kms_grant (
    grant_id text primary key,
    seq bigserial not null unique,
    key_id text not null references kms_key (key_id) on delete cascade,
    grantee_principal text not null,
    grantee_principal_type text not null,
    -- Wire names separated by commas, e.g. 'encrypt-data,decrypt-data'.
    operations text not null,
    issuing_principal text not null,
    retiring_principal text,
    name text,
    creation_date bigint not null
);

create index kms_grant_by_key on kms_grant (key_id, seq);
create index kms_grant_by_grantee on kms_grant (key_id, grantee_principal);
create index kms_grant_by_retiring_principal on kms_grant (retiring_principal, seq)
    where retiring_principal is not null;
