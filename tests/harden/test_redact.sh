#!/bin/bash
# test_redact.sh -- requests written by an older scepd, which stored the
# CSR as received (challengePassword in clear), are rewritten by the data
# migration at `scepd serve` start (src/store/store_redact.c), and scepd
# still serves them (issue 8, SECURITY.md section 6).
#
#   1. A fresh store: one enrollment on the automatic endpoint (issued),
#      one on a manual-approval endpoint (pending).  scepd stopped, the two
#      rows are put back in the old form with sqlite3 (csr_der = the CSR as
#      the client sent it, challenge included) and the migration's record
#      removed, as in a store an older scepd wrote: the challenges are in
#      the database file.
#   2. scepd serve: no challenge anywhere in the database file or its WAL,
#      nor in scepd's log; the migration is recorded with its counts.
#   3. The requests still work: the admin API shows both, the pending one
#      is approved and a CertPoll gets its certificate (issued from the
#      rewritten CSR), a re-sent PKCSReq of the issued one gets its
#      certificate again.
#   4. A restart runs nothing: the record is unchanged.
#
# Environment from meson: SCEPD, SCEPCTL, SCEPMSG, INTEROP_DIR.

. "${INTEROP_DIR:?}/lib.sh"

interop_init
need curl openssl sqlite3 python3

DATA="$WORK/data"
PORT=$(free_port) || bail "no free port"
BASE_URL="http://127.0.0.1:$PORT"
SCEPD_LOG="$WORK/scepd.log"
DB="$DATA/scepd.db"

init_scepd "$DATA"
[ -n "$ADMIN_TOKEN" ] || bail "no token"

serve()
{
	"$SCEPD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
	    >>"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	wait_healthz "$BASE_URL/healthz" 20 "$SCEPD_PID"
}

# in_db TEXT: 0 when TEXT is in the database file or its WAL.
in_db()
{
	cat "$DB" "$DB-wal" 2>/dev/null | grep -aqF -- "$1"
}

# req_id TRANSID: the request's id.
req_id()
{
	sqlite3 "$DB" "SELECT id FROM requests WHERE transid = '$1'"
}

hexof()
{
	od -An -tx1 -v "$1" | tr -d ' \n'
}

setting()
{
	sqlite3 "$DB" "SELECT value FROM settings WHERE key = 'migration.csr_redact'"
}

# --- 1. a store with requests in the old form --------------------------------

serve || bail "scepd did not start"
fetch_cacerts "$WORK/ref" >/dev/null || bail "GetCACert failed"
make_client "$WORK/auto" "redact auto" "$CHALLENGE" || bail "client"
scep_enroll_post "$WORK/auto" "$SCEP_URL" "$WORK/ref/ra.pem" >/dev/null
tap_is "$(reply_field "$WORK/auto" pkiStatus)" 0 "enrollment: SUCCESS"
AUTO_SERIAL=$(openssl x509 -in "$WORK/auto/cert.pem" -noout -serial |
    sed 's/^serial=//')

"$SCEPCTL" endpoint create --name "Redact manual" --ext manual \
    --type device --manual-approval --json >"$WORK/ep.json" 2>&1 ||
    bail "scepctl endpoint create: $(cat "$WORK/ep.json")"
"$SCEPCTL" account create --endpoint manual --name redact-manual \
    --json >"$WORK/macc.json" 2>&1 ||
    bail "scepctl account create: $(cat "$WORK/macc.json")"
MCHAL=$(json_get "$WORK/macc.json" challenge) || bail "no challenge"
MURL="$BASE_URL/scep/manual"
fetch_cacerts "$WORK/mref" "$MURL" >/dev/null || bail "GetCACert (manual)"
make_client "$WORK/man" "redact manual" "$MCHAL" || bail "client"
scep_enroll_post "$WORK/man" "$MURL" "$WORK/mref/ra.pem" >/dev/null
tap_is "$(reply_field "$WORK/man" pkiStatus)" 3 "manual enrollment: PENDING"
stop_scepd

AUTO_TX=$(sed -n 's/^transactionID=//p' "$WORK/auto/req.txt")
MAN_TX=$(sed -n 's/^transactionID=//p' "$WORK/man/req.txt")
AUTO_ID=$(req_id "$AUTO_TX")
MAN_ID=$(req_id "$MAN_TX")
tap_check "both requests are in the store (ids $AUTO_ID, $MAN_ID)" \
    "$([ -n "$AUTO_ID" ] && [ -n "$MAN_ID" ]; echo $?)"
tap_check "this scepd stored them without the challenge" \
    "$(! in_db "$CHALLENGE" && ! in_db "$MCHAL"; echo $?)"

# The old form: the CSR exactly as the client sent it.
for c in auto man; do
	openssl req -in "$WORK/$c/csr.pem" -outform DER -out "$WORK/$c/csr.der"
done
sqlite3 "$DB" "UPDATE requests SET csr_der = X'$(hexof "$WORK/auto/csr.der")' WHERE id = $AUTO_ID;
UPDATE requests SET csr_der = X'$(hexof "$WORK/man/csr.der")' WHERE id = $MAN_ID;
DELETE FROM settings WHERE key = 'migration.csr_redact';" ||
    bail "sqlite3 could not write the old form"
tap_check "old form: both challenges are in the database file" \
    "$(in_db "$CHALLENGE" && in_db "$MCHAL"; echo $?)"

# --- 2. the migration at serve start ---------------------------------------------

serve || bail "scepd did not start on the old store"
tap_check "after serve start: neither challenge in the database file or WAL" \
    "$(! in_db "$CHALLENGE" && ! in_db "$MCHAL"; echo $?)"
REC=$(setting)
tap_like "$REC" "^done [0-9]+: 2 of [0-9]+ rewritten, 0 unparsable$" \
    "the migration is recorded with its counts ($REC)"
tap_like "$(cat "$SCEPD_LOG")" "challenge removed from 2 of" \
    "scepd logged the counts"
tap_check "no challenge in scepd's log" \
    "$(! grep -qF -e "$CHALLENGE" -e "$MCHAL" "$SCEPD_LOG"; echo $?)"
tap_is "$(sqlite3 "$DB" "PRAGMA integrity_check")" ok \
    "SQLite integrity check"

# --- 3. the requests still work ---------------------------------------------------

for id in "$AUTO_ID" "$MAN_ID"; do
	code=$(curl -s -m 30 -o "$WORK/view-$id.json" -w '%{http_code}' \
	    -H "Authorization: Bearer $SCEPD_TOKEN" \
	    "$BASE_URL/api/v1/requests/$id")
	tap_is "$code" 200 "admin API: request $id is shown" ||
	    diag_file "$WORK/view-$id.json" "answer"
done
tap_like "$(cat "$WORK/view-$MAN_ID.json")" "\"$MAN_TX\"" \
    "admin API: the pending request's transactionID"
out=$("$SCEPCTL" request approve "$MAN_ID" 2>&1)
tap_check "scepctl request approve (issues from the rewritten CSR)" $? ||
    diag_text "$out"
d="$WORK/man"
"$SCEPMSG" req -t certpoll -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$WORK/mref/ra.pem" -i "$WORK/mref/ca.pem" -x "$MAN_TX" \
    -o "$d/poll.der" >"$d/req.txt" || bail "scepmsg certpoll"
http_post "$MURL?operation=PKIOperation" "$d/poll.der" "$d/rep.der" \
    >/dev/null
scep_read_reply "$d"
tap_is "$(reply_field "$d" pkiStatus)" 0 "CertPoll: SUCCESS after approval"
tap_like "$(openssl x509 -in "$d/cert.pem" -noout -subject 2>&1)" \
    "redact manual" "CertPoll: the certificate for the CSR's subject"
tap_check "CertPoll: the certificate is for the client's key" \
    "$(pubkey_matches "$d/cert.pem" "$d/key.pem"; echo $?)"

# The issued request, re-sent: answered from the store, same certificate.
d="$WORK/auto"
"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$WORK/ref/ra.pem" -x "$AUTO_TX" -o "$d/msg2.der" >"$d/req.txt" ||
    bail "scepmsg re-send"
http_post "$SCEP_URL?operation=PKIOperation" "$d/msg2.der" "$d/rep.der" \
    >/dev/null
scep_read_reply "$d"
tap_is "$(reply_field "$d" pkiStatus)" 0 "re-sent PKCSReq: SUCCESS"
tap_is "$(openssl x509 -in "$d/cert.pem" -noout -serial 2>&1 |
    sed 's/^serial=//')" "$AUTO_SERIAL" "re-sent PKCSReq: the same certificate"
stop_scepd

# --- 4. once only --------------------------------------------------------------------

serve || bail "scepd did not restart"
tap_is "$(setting)" "$REC" "restart: the record is unchanged (ran once)"
tap_check "restart: still no challenge in the database" \
    "$(! in_db "$CHALLENGE" && ! in_db "$MCHAL"; echo $?)"
finish_scepd
