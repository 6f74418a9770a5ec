-- Issue 13: AWS aliases (CreateAlias, DeleteAlias, UpdateAlias, ListAliases), per account
-- (the account is a Huawei domain; this emulator serves one region). An alias names one key
-- of its account; when the key row goes, its aliases go with it.
create table kms_alias (
    domain_id text not null,
    -- The full name, "alias/..." (AWS's AliasName).
    alias_name text not null,
    key_id text not null references kms_key (key_id) on delete cascade,
    -- ms since the epoch.
    creation_date integer not null,
    last_updated_date integer not null,
    primary key (domain_id, alias_name)
);

create index kms_alias_key on kms_alias (key_id);
