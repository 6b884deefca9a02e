#!/bin/sh
# test_migrate.sh -- `scepd migrate --from sqlite:PATH --to postgresql://`
# on a populated SQLite deployment (issue 6): nothing lost (row counts and
# contents of every table, certificates byte for byte, the audit chain
# still verifying with `scepctl audit verify` on a node serving from
# PostgreSQL, the admin token still valid), enrollment goes on where it
# stopped, and a migration that cannot be checked writes nothing.
#
# Runs under with-cluster.sh (STORE_TEST_DSN: an empty database).
. "$(dirname "$0")/lib.sh"

[ -n "${SCEPBENCH:-}" ] && [ -n "${SCEPCTL:-}" ] ||
    bail "SCEPBENCH and SCEPCTL are needed"

PORT=$(free_port)
D=$WORK/d
DB=$(dsn_db "$STORE_TEST_DSN")

# ---- an embedded deployment with some history ----
tap_ok "scepd init (SQLite)" sh -c "'$SCEPD' init --data-dir '$D' --json \
    --url http://127.0.0.1:$PORT --listen 127.0.0.1:$PORT > '$WORK/init.json'" ||
    bail "init failed"
CH=$(json_get "$WORK/init.json" challenge)
CA=$(json_get "$WORK/init.json" ca_cert)
URL=$(json_get "$WORK/init.json" scep_url)
SCEPD_TOKEN=$(json_get "$WORK/init.json" admin_token)
SCEPD_URL=http://127.0.0.1:$PORT
export SCEPD_TOKEN SCEPD_URL

node_start sqlite "$D" "$PORT"
tap_check "scepd serves from SQLite" $?
tap_ok "60 enrollments on SQLite" "$SCEPBENCH" --url "$URL" --challenge "$CH" \
    --ca "$CA" --count 60 --concurrency 4 --keys 8
tap_ok "an organization" "$SCEPCTL" org create --name "Acme Migrations"
tap_ok "a one-time challenge" "$SCEPCTL" account otc 1 --ttl 3600
SERIAL=$("$SCEPCTL" --json cert list 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
items = j.get("items", j) if isinstance(j, dict) else j
print(items[0]["serial"])' 2>/dev/null)
tap_ok "revoke one certificate ($SERIAL)" "$SCEPCTL" cert revoke "$SERIAL" \
    --reason keyCompromise
tap_ok "audit chain verifies on SQLite" "$SCEPCTL" audit verify
node_stop "$NODE_PID"
tap_check "scepd stopped cleanly" $?

# What SQLite holds, computed independently of scepd (Python's sqlite3):
# per table "name count digest", the digest over every row's columns.
cat > "$WORK/digest.py" <<'EOF'
import hashlib, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
# Every table of the schema, so that a table added by a later migration
# and forgotten by `scepd migrate` shows up here.
TABLES = [r[0] for r in db.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND "
    "name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name")]
# Columns only SQLite has: requests.signer_fp is the SHA-256 of signer_der
# that SQLite's requests_live needs (PostgreSQL computes it in its index).
SQLITE_ONLY = {("requests", "signer_fp")}
for t in TABLES:
    cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % t)
            if (t, r[1]) not in SQLITE_ONLY]
    key = "key" if t == "settings" else ("account_id" if t == "account_rules"
                                         else "id")
    h = hashlib.sha256()
    n = 0
    for row in db.execute("SELECT %s FROM %s ORDER BY %s" % (
            ", ".join(cols), t, key)):
        n += 1
        for v in row:
            if v is None:
                h.update(b"N;")
            elif isinstance(v, bytes):
                h.update(b"B" + v.hex().encode() + b";")
            else:
                h.update(b"V" + str(v).encode() + b";")
    print(t, n, h.hexdigest())
EOF
# The same digest over PostgreSQL, through psql (bytea as hex).
cat > "$WORK/pgdigest.py" <<'EOF'
import hashlib, subprocess, sys
tool, cluster, db, sqlite = sys.argv[1:5]
import sqlite3
sq = sqlite3.connect("file:%s?mode=ro" % sqlite, uri=True)
for line in sys.stdin:
    t = line.split()[0]
    info = [r for r in sq.execute("PRAGMA table_info(%s)" % t)
            if (t, r[1]) not in {("requests", "signer_fp")}]
    key = "key" if t == "settings" else ("account_id" if t == "account_rules"
                                         else "id")
    sel = []
    for r in info:
        c, typ = r[1], r[2].upper()
        if typ == "BLOB":
            sel.append("CASE WHEN %s IS NULL THEN 'N' ELSE 'B' || "
                       "encode(%s, 'hex') END" % (c, c))
        else:
            sel.append("CASE WHEN %s IS NULL THEN 'N' ELSE 'V' || "
                       "%s::text END" % (c, c))
    q = "SELECT %s FROM %s ORDER BY %s" % (
        " || chr(31) || ".join(sel), t, key)
    out = subprocess.run([tool, "psql", cluster, db, "-At", "-c", q],
                         check=True, capture_output=True, text=True).stdout
    h = hashlib.sha256()
    n = 0
    for row in out.splitlines():
        n += 1
        for v in row.split("\x1f"):
            h.update(v.encode() + b";")
    print(t, n, h.hexdigest())
EOF
python3 "$WORK/digest.py" "$D/scepd.db" > "$WORK/sqlite.txt"
tap_check "SQLite content digested ($(wc -l < "$WORK/sqlite.txt") tables)" \
    $?
SQ_CERTS=$(awk '$1 == "certs" {print $2}' "$WORK/sqlite.txt")
SQ_EVENTS=$(awk '$1 == "events" {print $2}' "$WORK/sqlite.txt")
test "$SQ_CERTS" -ge 60 && test "$SQ_EVENTS" -gt 60
tap_check "populated: $SQ_CERTS certificates, $SQ_EVENTS audit events" $?

# ---- the migration ----
"$SCEPD" migrate --json --from "sqlite:$D/scepd.db" --to "$STORE_TEST_DSN" \
    > "$WORK/migrate.json" 2> "$WORK/migrate.err"
tap_check "scepd migrate exits 0" $? || cat "$WORK/migrate.err" >&2
python3 - "$WORK/migrate.json" "$WORK/sqlite.txt" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = {l.split()[0]: int(l.split()[1]) for l in open(sys.argv[2])}
assert j["ok"] is True, j
assert set(j["tables"]) == set(want), sorted(set(want) ^ set(j["tables"]))
for t, n in want.items():
    got = j["tables"][t]
    assert got["sqlite"] == n and got["postgresql"] == n, (t, got, n)
assert j["events"] == want["events"], j["events"]
assert j["bad_event"] == 0
EOF
tap_check "its report: every table of the schema copied, with the same \
row count" $?
"$PG_CLUSTER_TOOL" psql "$PGCLUSTER" "$DB" -At -c "SELECT 1" > /dev/null
python3 "$WORK/pgdigest.py" "$PG_CLUSTER_TOOL" "$PGCLUSTER" "$DB" \
    "$D/scepd.db" < "$WORK/sqlite.txt" > "$WORK/pg.txt" 2> "$WORK/pg.err"
tap_check "PostgreSQL content digested" $? || sed 's/^/# /' "$WORK/pg.err"
diff -u "$WORK/sqlite.txt" "$WORK/pg.txt" > "$WORK/digest.diff"
tap_check "every row of every table identical in PostgreSQL (counts and \
contents, certificates byte for byte, audit hashes)" $? ||
    sed 's/^/# /' "$WORK/digest.diff"
HEAD_SQ=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT hex(hash) FROM events ORDER BY id DESC LIMIT 1").fetchone()[0].lower())' "$D/scepd.db")
tap_is "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["chain_head"])' "$WORK/migrate.json")" \
    "$HEAD_SQ" "the audit chain ends in the same hash"

# ---- a node on PostgreSQL: nothing lost, and it goes on ----
node_start pg "$D" "$PORT" --store "$STORE_TEST_DSN"
tap_check "scepd serves from PostgreSQL" $?
tap_ok "scepctl audit verify passes on PostgreSQL (the old admin token \
still works)" "$SCEPCTL" audit verify
"$SCEPCTL" --json cert show "$SERIAL" > "$WORK/cert.json" 2>&1
grep -q '"revoked"' "$WORK/cert.json"
tap_check "the revoked certificate is still revoked" $? ||
    sed 's/^/# /' "$WORK/cert.json"
tap_ok "20 more enrollments on PostgreSQL (same challenge)" "$SCEPBENCH" \
    --url "$URL" --challenge "$CH" --ca "$CA" --count 20 --concurrency 4 \
    --keys 8
tap_is "$(pg_sql "$DB" "SELECT count(*), count(DISTINCT serial), max(id) FROM certs")" \
    "$((SQ_CERTS + 20))|$((SQ_CERTS + 20))|$((SQ_CERTS + 20))" \
    "ids and serials continue after the copied ones"
tap_ok "the audit chain verifies with the new events" "$SCEPCTL" audit verify
node_stop "$NODE_PID"

# ---- what must not happen ----
"$SCEPD" migrate --from "sqlite:$D/scepd.db" --to "$STORE_TEST_DSN" \
    > "$WORK/again.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'not empty' "$WORK/again.txt"
tap_check "migrating into a non-empty database is refused" $?
tap_is "$(pg_sql "$DB" "SELECT count(*) FROM certs")" "$((SQ_CERTS + 20))" \
    "... and writes nothing"

DSN2=$("$PG_CLUSTER_TOOL" createdb "$PGCLUSTER" tampered)
python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("UPDATE events SET reason = '"'"'edited'"'"' WHERE id = 5"); db.commit()' \
    "$D/scepd.db"
"$SCEPD" migrate --from "sqlite:$D/scepd.db" --to "$DSN2" \
    > "$WORK/tampered.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'audit chain' "$WORK/tampered.txt"
tap_check "a source whose audit chain is broken is not migrated" $? ||
    sed 's/^/# /' "$WORK/tampered.txt"
tap_is "$(pg_sql tampered "SELECT (SELECT count(*) FROM certs) + (SELECT count(*) FROM events)")" \
    "0" "... and the target is left empty (one transaction)"
