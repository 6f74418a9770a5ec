-- The audit trail of the grant lifecycle. Append-only: rows are written in the
-- transaction of the change they record (or after a refusal) and never changed.
create table kms_audit (
    seq integer primary key autoincrement,
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

create trigger kms_audit_no_update before update on kms_audit
begin
    select raise(abort, 'kms_audit is append-only');
end;

create trigger kms_audit_no_delete before delete on kms_audit
begin
    select raise(abort, 'kms_audit is append-only');
end;
