-- Issue 12: key rotation. A key's first material stays in kms_key.key_material (version 0, so
-- ciphertexts made before this migration still open); each rotation adds a version here,
-- wrapped under the master key with the key ID and version as associated data. New
-- ciphertexts use the newest version; the frame names the version it was made with.
create table kms_key_version (
    key_id text not null references kms_key (key_id) on delete cascade,
    -- 1, 2, ... (0 is kms_key.key_material).
    version integer not null,
    key_material blob not null,
    -- ms since the epoch, on the emulator's clock (see kms_setting 'clock_offset_ms').
    rotation_date integer not null,
    -- 'AUTOMATIC' or 'ON_DEMAND' (AWS RotationType).
    rotation_type text not null,
    primary key (key_id, version)
);

-- Automatic rotation settings; a key without a row has never had rotation enabled.
create table kms_key_rotation (
    key_id text primary key references kms_key (key_id) on delete cascade,
    -- 0 or 1.
    enabled integer not null,
    period_days integer not null,
    -- ms since the epoch on the emulator's clock; null while rotation is disabled.
    next_rotation_date integer
);
