#!/bin/bash
# usage: bench/callgrind_grants.sh <binary> <output dir> [grants, default 200]
# Runs the binary under callgrind on a fresh SQLite file; cg.out.2 holds the create-grants, cg.out.3 the revokes
# (callgrind_annotate --inclusive=yes DIR/cg.out.3). Divide the totals by the number of grants.
set -e
BIN=$1; OUT=$2; N=${3:-200}
mkdir -p "$OUT"; rm -f "$OUT"/cg.out* "$OUT"/db.sqlite*
PORT=$((20000 + RANDOM % 10000))
valgrind --tool=callgrind --callgrind-out-file=$OUT/cg.out $BIN --listen 127.0.0.1:$PORT --database-url "sqlite://$OUT/db.sqlite?mode=rwc" --max-keys-per-project 1000000 --region cn-north-4 >$OUT/server.log 2>&1 &
VPID=$!
for i in $(seq 1 600); do curl -sf http://127.0.0.1:$PORT/ready >/dev/null && break; sleep 0.5; done
python3 "$(dirname "$0")/callgrind_grants.py" $PORT $VPID $N $OUT
kill $VPID; wait $VPID || true
ls $OUT
