-- Issue 12 item 5: imported key material (BYOK), both dialects.
--
-- The parameters of get-parameters-for-import / GetParametersForImport: the wrapping RSA
-- private key, wrapped under the master key (with the key ID as associated data, like key
-- material), kept for its 24 hours so that any process sharing the database can unwrap
-- what the client sends with the token. Only the SHA-256 of the token is stored.
create table kms_import_token (
    token_sha256 text primary key,
    key_id text not null references kms_key (key_id) on delete cascade,
    -- WrappingAlgorithm name, e.g. 'RSAES_OAEP_SHA_256'.
    wrapping_algorithm text not null,
    wrapping_key blob not null,
    -- ms since the epoch, on the emulator's clock (see kms_setting 'clock_offset_ms').
    valid_to integer not null
);
create index kms_import_token_valid_to on kms_import_token (valid_to);

-- What was imported into an external key, kept after the material is deleted so that only
-- the same material can be imported again (and the key's old ciphertexts open again).
create table kms_key_import (
    key_id text primary key references kms_key (key_id) on delete cascade,
    -- AWS KeyMaterialId: 64 hex digits derived from the key ID and the material.
    material_id text not null,
    -- ms since the epoch on the emulator's clock; null: does not expire (or deleted).
    expires_at integer
);
