-- Key policies of Huawei's trusted key spaces (key-policies), which data-key capsules
-- (datakey-capsule/create, /decrypt) are bound to. Key spaces themselves are not stored:
-- keyspace_id is the UUID the client names, and groups the policies of a listing.
create table kms_keyspace_policy (
    policy_id text primary key,
    project_id text not null,
    region text not null,
    keyspace_id text not null,
    policy_name text not null,
    -- The policy document, normalized JSON (domain::keyspace::PolicyDocument).
    policy text not null,
    description text not null,
    created_by text not null,
    -- ms since the epoch, on the emulator's clock.
    create_time bigint not null,
    last_modify_time bigint not null,
    last_access_time bigint
);
create index kms_keyspace_policy_listing on kms_keyspace_policy (project_id, region, keyspace_id, policy_id);
