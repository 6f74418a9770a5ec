-- The audit trail of the grant lifecycle. Append-only: rows are written in the
-- transaction of the change they record (or after a refusal) and never changed.
create table kms_audit (
    seq bigserial primary key,
    event text not null,
    -- Milliseconds since the Unix epoch.
    occurred_at bigint not null,
    request_id text not null,
    actor_user_id text not null,
    actor_project_id text not null,
    key_id text not null,
    grant_id text,
    detail text not null
);

create index kms_audit_by_key on kms_audit (key_id, seq);
create index kms_audit_by_grant on kms_audit (grant_id, seq);
create index kms_audit_by_request on kms_audit (request_id);

create function kms_audit_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'kms_audit is append-only';
end
$$;

create trigger kms_audit_append_only before update or delete on kms_audit
    for each row execute function kms_audit_refuse_change();
create trigger kms_audit_no_truncate before truncate on kms_audit
    for each statement execute function kms_audit_refuse_change();
