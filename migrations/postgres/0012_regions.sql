-- Issue 13, item 5: several regions from one process (--regions). A key lives in one
-- region, and AWS aliases are per account and region. Rows written before regions exist
-- get '' here, which the service replaces with its default region (--region) at start,
-- in one transaction, before it serves: a migration cannot know the configuration.
alter table kms_key add column region text collate "C" not null default '';

alter table kms_alias add column region text collate "C" not null default '';
alter table kms_alias drop constraint kms_alias_pkey;
alter table kms_alias add primary key (domain_id, region, alias_name);

create index kms_key_project_region on kms_key (project_id, region, seq);
