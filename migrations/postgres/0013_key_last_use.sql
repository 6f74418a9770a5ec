-- Issue 13: AWS GetKeyLastUsage. One row per key: its last successful cryptographic
-- operation, in the emulator's clock. Kept apart from kms_key so that recording a use
-- never takes the key row's lock, which administration and rotation hold.
create table kms_key_last_use (
    key_id text primary key references kms_key (key_id) on delete cascade,
    operation text not null,
    used_at bigint not null,
    request_id text not null
);
