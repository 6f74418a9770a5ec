-- Each key's AES-256 material, encrypted under the master key (AES-256-GCM,
-- nonce || ciphertext || tag, with the key id as associated data).
alter table kms_key add column key_material blob;

-- Service-wide values, such as a generated master key when none is configured.
create table kms_setting (
    name text primary key,
    value text not null
);
