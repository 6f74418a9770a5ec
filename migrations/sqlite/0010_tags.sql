-- Issue 13: key tags, both dialects (Huawei {key_id}/tags, AWS TagResource). A tag belongs
-- to one key and goes with it. `position` keeps the order tags were first set, which both
-- clouds' listings show.
create table kms_tag (
    key_id text not null references kms_key (key_id) on delete cascade,
    tag_key text not null,
    tag_value text not null,
    position integer not null,
    primary key (key_id, tag_key)
);
