#!/usr/bin/env python3
"""SQLite's own limit for the revoke-grant transaction, the SQLite row beside pgbench's.

The transaction of src/store/sql.rs (delete_grant), straight against SQLite with Python's
sqlite3 module on one connection: BEGIN IMMEDIATE, read the grant and its key in one
statement, delete the grant, append the audit record to the hash chain (read the chain
head and the table's last seq in one statement, number the record past both, link it,
insert it, move the head),
COMMIT. Same schema (migrations/sqlite applied in order), WAL, and the durability setting
given (the service runs synchronous=NORMAL). The chain value is SHA-256 here where the
service computes an HMAC or SHA-256 in Rust: the same row sizes and writes.

Prints one JSON object: {"tps": ..., "transactions": ..., "seconds": ..., ...}.
Run: python3 bench/sqlite_revoke.py --db /tmp/ref.db --grants 20000 --secs 5
"""

import argparse
import glob
import hashlib
import json
import os
import sqlite3
import time

GRANT_COLUMNS = (
    "g.seq, g.grant_id, g.key_id, g.grantee_principal, g.grantee_principal_type, g.operations, "
    "g.issuing_principal, g.retiring_principal, g.name, g.creation_date, g.context_constraint, "
    "g.retiring_principal_type, g.dialect, k.seq, k.key_id, k.project_id, k.domain_id, "
    "k.creator_user_id, k.key_alias, k.key_description, k.key_spec, k.key_usage, k.origin, "
    "k.key_state, k.creation_date, k.scheduled_deletion_date, k.key_material, k.key_policy"
)
PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
ALICE = "a11ce000000000000000000000000001"


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def grant_id(i):
    return md5(f"g{i}") + md5(f"h{i}")


def key_id(i):
    h = md5(f"k{i // 100}")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def create(path, migrations, grants):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    for migration in sorted(glob.glob(os.path.join(migrations, "*.sql"))):
        with open(migration) as f:
            db.executescript(f.read())
    db.execute("begin")
    db.execute("insert into kms_project (project_id) values (?)", (PROJECT,))
    keys = sorted({i // 100 for i in range(1, grants + 1)})
    db.executemany(
        "insert into kms_key (key_id, project_id, domain_id, creator_user_id, key_alias, "
        "key_description, key_spec, key_usage, origin, key_state, creation_date, key_material) "
        "values (?, ?, 'b168fe00ff56492495a7d22974df2d0b', ?, ?, '', 'AES_256', 'ENCRYPT_DECRYPT', "
        "'kms', 2, 1764000000000, zeroblob(60))",
        [(key_id(k * 100), PROJECT, ALICE, f"bench-{k}") for k in keys],
    )
    db.executemany(
        "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, "
        "operations, issuing_principal, retiring_principal, name, creation_date, dialect) "
        "values (?, ?, 'b0b00000000000000000000000000002', 'user', 'encrypt-data,decrypt-data', "
        "?, 'ca401000000000000000000000000003', null, 1764000000000, 'huawei')",
        [(grant_id(i), key_id(i), ALICE) for i in range(1, grants + 1)],
    )
    db.execute("commit")
    db.close()


def revoke(db, i):
    g, k = grant_id(i), key_id(i)
    db.execute("begin immediate")
    db.execute(
        f"select {GRANT_COLUMNS} from kms_grant g, kms_key k where g.grant_id = ? and k.key_id = ?",
        (g, k),
    ).fetchone()
    db.execute("delete from kms_grant where grant_id = ?", (g,))
    head_seq, head_chain, max_seq = db.execute(
        "select head_seq, head_chain, (select coalesce(max(seq), 0) from kms_audit) "
        "from kms_audit_chain where id = 1"
    ).fetchone()
    seq = max(max_seq, head_seq) + 1
    chain = hashlib.sha256(f"{head_chain}{i}".encode()).hexdigest()
    db.execute(
        "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, "
        "actor_project_id, key_id, grant_id, detail, chain) "
        "values (?, 'grant-revoked', 1764000000000, ?, ?, ?, ?, ?, '', ?)",
        (seq, md5(f"r{i}"), ALICE, PROJECT, k, g, chain),
    )
    db.execute(
        "update kms_audit_chain set head_seq = ?, head_chain = ?, head_mac = ? where id = 1",
        (seq, chain, hashlib.sha256(chain.encode()).hexdigest()),
    )
    db.execute("commit")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database file to create (replaced)")
    parser.add_argument("--migrations", default="migrations/sqlite")
    parser.add_argument("--grants", type=int, default=20000)
    parser.add_argument("--secs", type=float, default=5.0)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    args = parser.parse_args()
    create(args.db, args.migrations, args.grants)
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute(f"pragma synchronous={args.synchronous}")
    db.execute("pragma foreign_keys=on")
    # Grants are revoked in a shuffled order, each once: every transaction deletes a row.
    order = list(range(1, args.grants + 1))
    step = 7919  # a prime: i * step mod n visits every grant once when n is not a multiple
    order = [order[(i * step) % len(order)] for i in range(len(order))]
    if len(set(order)) != len(order):
        order = list(range(1, args.grants + 1))
    done = 0
    started = time.perf_counter()
    deadline = started + args.secs
    while done < len(order) and time.perf_counter() < deadline:
        revoke(db, order[done])
        done += 1
    elapsed = time.perf_counter() - started
    db.close()
    print(
        json.dumps(
            {
                "tps": round(done / elapsed, 1),
                "transactions": done,
                "seconds": round(elapsed, 3),
                "synchronous": args.synchronous,
                "journal_mode": "wal",
                "grants": args.grants,
                "connections": 1,
                "driver": f"python sqlite3 {sqlite3.sqlite_version}",
            }
        )
    )


if __name__ == "__main__":
    main()
