-- IAM tokens issued by POST /v3/auth/tokens. Kept in the database, not in memory, so a
-- token issued by one process is accepted by every process sharing the database.
-- Only the SHA-256 of a token is stored: a database dump does not hand out live tokens.
create table iam_token (
    token_sha256 text primary key,
    user_id text not null,
    -- null for a domain-scoped token.
    project_id text,
    issued_at integer not null,
    -- Milliseconds since the Unix epoch.
    expires_at integer not null
);

create index iam_token_by_expiry on iam_token (expires_at);
