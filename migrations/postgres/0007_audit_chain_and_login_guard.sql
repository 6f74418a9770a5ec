-- Issue 15: a tamper-evident audit trail, its retention, and the failed-login lockout.
--
-- Each record written from now on carries `chain`: HMAC-SHA256 (keyed from the master key
-- when one is configured, plain SHA-256 otherwise) over the previous record's chain value and
-- the record's own fields, so `kms-emulator audit verify` finds a record altered, inserted or
-- deleted behind the service's back. Rows written before this migration have no chain value:
-- they are the unchained prefix (seq <= start_seq), which verify counts and cannot vouch for.
alter table kms_audit add column chain text;

-- One row: where the chain starts, its head (the last record appended, locked `for update`
-- by every append so several processes extend one chain), and the retention checkpoint (the
-- chain value of the last record deleted by retention, from which verify starts).
create table kms_audit_chain (
    id integer primary key check (id = 1),
    start_seq bigint not null,
    head_seq bigint not null,
    head_chain text not null,
    -- MAC of (head_seq, head_chain): deleting records at the end and moving the head back
    -- shows. Null only before the first chained record.
    head_mac text,
    checkpoint_seq bigint not null default 0,
    checkpoint_chain text not null default '',
    checkpoint_mac text,
    -- Records deleted by retention so far, and when it last ran (ms since the epoch).
    pruned_records bigint not null default 0,
    pruned_at bigint
);

insert into kms_audit_chain (id, start_seq, head_seq, head_chain)
    select 1, coalesce(max(seq), 0), coalesce(max(seq), 0), '' from kms_audit;

-- Records stay append-only, except that retention may delete the ones a checkpoint covers.
create or replace function kms_audit_refuse_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and old.seq <= (select checkpoint_seq from kms_audit_chain where id = 1) then
        return old;
    end if;
    raise exception 'kms_audit is append-only';
end
$$;

-- Failed logins (POST /v3/auth/tokens), counted per user so every process sharing the
-- database sees them. `subject` is the user id, or a hash of the names given for a user
-- that does not exist (counted and answered the same way).
create table iam_login_guard (
    subject text primary key,
    -- Start of the counting window, ms since the epoch.
    window_start bigint not null,
    failures integer not null,
    -- Locked until then (ms since the epoch); 0 when not locked.
    locked_until bigint not null default 0
);
