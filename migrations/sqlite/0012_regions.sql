-- Issue 13, item 5: several regions from one process (--regions). A key lives in one
-- region, and AWS aliases are per account and region. Rows written before regions exist
-- get '' here, which the service replaces with its default region (--region) at start,
-- in one transaction, before it serves: a migration cannot know the configuration.
alter table kms_key add column region text not null default '';

-- SQLite cannot change a primary key: the alias table is rebuilt with the region in it.
create table kms_alias_regional (
    domain_id text not null,
    region text not null default '',
    -- The full name, "alias/..." (AWS's AliasName).
    alias_name text not null,
    key_id text not null references kms_key (key_id) on delete cascade,
    -- ms since the epoch.
    creation_date integer not null,
    last_updated_date integer not null,
    primary key (domain_id, region, alias_name)
);
insert into kms_alias_regional (domain_id, region, alias_name, key_id, creation_date, last_updated_date)
    select domain_id, '', alias_name, key_id, creation_date, last_updated_date from kms_alias;
drop table kms_alias;
alter table kms_alias_regional rename to kms_alias;
create index kms_alias_key on kms_alias (key_id);

create index kms_key_project_region on kms_key (project_id, region, seq);
