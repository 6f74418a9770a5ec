-- AWS grant constraints (`EncryptionContextSubset` / `EncryptionContextEquals`), stored
-- as the AWS wire JSON, e.g. {"EncryptionContextEquals":{"app":"x"}}. Null for every
-- grant without one, which includes every grant made through the Huawei dialect.
alter table kms_grant add column context_constraint text;

-- AWS CreateGrant retries with the same Name find the existing grant through this.
create index kms_grant_by_name on kms_grant (key_id, name) where name is not null;
