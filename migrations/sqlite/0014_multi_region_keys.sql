-- Multi-Region keys (AWS ReplicateKey / UpdatePrimaryRegion, Huawei replicate and
-- update-primary-region). A multi-Region key is one row per region, its key_id being
-- 'mrk-<32 hex>@<region>' (clients see 'mrk-<32 hex>'); this column holds the row's role,
-- 'PRIMARY' or 'REPLICA', and is null for a single-Region key.
alter table kms_key add column multi_region_role text;
