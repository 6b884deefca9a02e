#!/bin/bash
# test_e2e.sh -- Intune SCEP endpoints end to end (issue 5, spec
# intune-scep.md 10.2): a real scepd, real SCEP clients carrying stand-in
# challenges, and tests/intune/standin.py (Entra ID, Graph and the Intune
# validation service over TLS with its own test CA) recording every call.
#
# The Azure account and the endpoints' Intune settings are written into
# the store by seed_azure (a fixture linking the service layer) while
# scepd runs; scepd picks them up at the next enrollment.
#
# Clients: certmonger's scep-submit (GET PKIOperation, AES-256/SHA-256),
# micromdm's scepclient 2.1.0 (POST, DES/SHA-1: a legacy endpoint), and
# scepmsg + curl where the test needs the reply's failInfoText.
#
# Environment (tests/intune/meson.build): SCEPD, SCEPMSG, SEED_AZURE,
# STANDIN_PY (standin.py; lib.sh uses STANDIN).

. "$(dirname "$0")/../interop/lib.sh"

SUBMIT=/usr/lib/certmonger/scep-submit
SECRET="e2e-standin-secret"

interop_init
need curl openssl python3 sqlite3 scepclient timeout
[ -x "$SUBMIT" ] || bail "$SUBMIT is missing (package certmonger)"
[ -x "${SEED_AZURE:-}" ] || bail "SEED_AZURE is not set"
[ -f "${STANDIN_PY:-}" ] || bail "STANDIN_PY is not set"

# --- the stand-in ----------------------------------------------------------
SI_DIR="$WORK/standin"
python3 "$STANDIN_PY" --dir "$SI_DIR" --client-secret "$SECRET" \
    --expires-in 3600 --exit-with-parent >"$WORK/standin.log" 2>&1 &
SI_PID=$!
BG_PIDS="$BG_PIDS $SI_PID"
INTEROP_EXTRA_LOGS="$WORK/standin.log"
for i in $(seq 200); do
	[ -s "$SI_DIR/standin.json" ] && break
	kill -0 "$SI_PID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$SI_DIR/standin.json" ] || bail "the stand-in did not start"
SI_BASE=$(json_get "$SI_DIR/standin.json" base) || bail "no stand-in base"
SI_CA=$(json_get "$SI_DIR/standin.json" ca) || bail "no stand-in CA"

si_ctl()	# si_ctl PATH [JSON]: the stand-in's control API
{
	if [ -n "${2:-}" ]; then
		curl -s -m 10 --cacert "$SI_CA" -X POST -d "$2" \
		    "${SI_BASE}_standin/$1"
	else
		curl -s -m 10 --cacert "$SI_CA" "${SI_BASE}_standin/$1"
	fi
}

# calls: the ScepActions calls since the last reset, one per line:
# "kind transactionId sha256(certificateRequest) extra" where extra is
# hResult for a failureNotification.
calls()
{
	si_ctl calls | python3 -c '
import base64, hashlib, json, sys
for c in json.load(sys.stdin)["calls"]:
    k = c.get("kind")
    if k not in ("validateRequest", "successNotification",
                 "failureNotification"):
        continue
    j = c.get("json") or {}
    o = j.get("request") or j.get("notification") or {}
    csr = o.get("certificateRequest") or ""
    try:
        h = hashlib.sha256(base64.b64decode(csr)).hexdigest()
    except Exception:
        h = "-"
    extra = o.get("hResult", "")
    desc = (o.get("errorDescription") or "").replace(" ", "_")
    print(k, o.get("transactionId", "-"), h, extra, desc)
'
}
kinds() { calls | awk '{print $1}' | paste -sd, -; }
count_all() { si_ctl calls | python3 -c \
    'import json, sys; print(len(json.load(sys.stdin)["calls"]))'; }
# sq SQL: the scepd store, waiting for scepd's write locks.
sq() { sqlite3 -cmd '.timeout 10000' "$DB" "$1"; }

# --- scepd, the account and the endpoints ------------------------------------
# A small pool, so that "queue full" below is reachable: 4 workers, 2 queued.
export SCEPD_INTUNE_WORKERS=4 SCEPD_INTUNE_QUEUE=2
# shellcheck disable=SC2119
start_scepd
DATA=$(json_get "$WORK/init.json" data_dir) || bail "no data_dir"
DB="$DATA/scepd.db"
tap_is "$(stat -c %a "$DATA/azure.key" 2>/dev/null)" 600 \
    "scepd init made azure.key, mode 0600"
tap_is "$(stat -c %s "$DATA/azure.key" 2>/dev/null)" 32 \
    "azure.key holds 32 bytes"
# uri_ext:type:legacy:wait_success:manual_approval:term_days; the main
# Intune endpoint has manual approval on: it must still never be PENDING.
# Every call to "Microsoft" goes through the stand-in's CONNECT proxy
# (spec 10.2 case 15 end to end).
SI_PROXY="http://127.0.0.1:$(json_get "$SI_DIR/standin.json" proxy_port)"
SEED_PROXY="$SI_PROXY" "$SEED_AZURE" "$DATA" "$SI_BASE" "$SI_CA" "$SECRET" \
    "intune:device-intune:0:1:1:365" \
    "intune-legacy:client-intune:1:1:0:365" \
    "intune-nowait:device-intune:0:0:0:365" >"$WORK/seed.out" 2>&1
tap_is $? 0 "seed: Azure account and Intune endpoints in the store" ||
    diag_text "$(cat "$WORK/seed.out")"
tap_unlike "$(sq 'SELECT hex(secret) FROM azure_accounts' \
    2>/dev/null; sq .dump 2>/dev/null)" "$SECRET" \
    "the client secret is not in the database in clear"

IURL="$BASE_URL/scep/intune"
fetch_cacerts "$WORK/ca" "$IURL" >/dev/null || bail "GetCACert failed"
RA="$WORK/ca/ra.pem"
CA="$WORK/ca/ca.pem"

ncerts() { sq 'SELECT count(*) FROM certs'; }
cert_status() { sq "SELECT status || ':' || revoke_reason FROM \
certs WHERE serial = '$1'"; }
# csr_hash DIR: SHA-256 of the DER PKCS#10 the client sent.
csr_hash() { openssl req -in "$1/csr.pem" -outform DER |
    sha256sum | cut -d' ' -f1; }
txid_of() { sed -n 's/^transactionID=//p' "$1/req.txt"; }

# submit DIR URL: certmonger's scep-submit with a message built like
# certmonger's (AES-256, SHA-256), sent as GET PKIOperation.
submit()
{
	local d="$1" url="$2"
	"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
	    -k "$d/key.pem" -r "$RA" -e aes256 -d sha256 -P \
	    -o "$d/msg.pem" >"$d/req.txt" || return 9
	timeout 60 "$SUBMIT" -u "$url" -r "$RA" -N "$CA" -p "$d/msg.pem" \
	    >"$d/sub.out" 2>"$d/sub.err"
}

# post DIR URL: scepmsg + curl; DIR/rep.txt holds pkiStatus, failInfo,
# failInfoText.
post() { scep_enroll_post "$1" "$2" "$RA" -e aes256 -d sha256 >/dev/null; }

# --- case 1 (and 13): the happy path, certmonger over GET ------------------
si_ctl reset '{}' >/dev/null
d="$WORK/c1"
make_client "$d" intune-device-1 "STANDIN-OK/n1" || bail "make_client"
before=$(ncerts)
submit "$d" "$IURL"
tap_is $? 0 "1: scep-submit (GET, AES-256/SHA-256): certificate issued" ||
    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
tap_is "$(kinds)" "validateRequest,successNotification" \
    "1: validateRequest, then successNotification, once each"
tx=$(txid_of "$d")
tap_is "$(calls | awk '{print $2}' | sort -u)" "$tx" \
    "1: both calls carry the SCEP transactionID"
tap_is "$(calls | awk '{print $3}' | sort -u)" "$(csr_hash "$d")" \
    "13: certificateRequest is the exact CSR the client sent (SHA-256)"
tap_is "$(ncerts)" $((before + 1)) "1: one certificate in the store"
tap_like "$(si_ctl calls | python3 -c 'import json, sys
c = json.load(sys.stdin)["calls"]
print(sum(1 for x in c if x.get("kind") == "connect"))')" '^[1-9]' \
    "15: the calls went through the account's CONNECT proxy"
serial=$(sq "SELECT serial FROM certs ORDER BY id DESC LIMIT 1")
tap_is "$(cert_status "$serial")" "1:0" "1: and it is valid"
tap_unlike "$(sq "SELECT result FROM events WHERE \
transid = '$tx'")" PENDING "9: manual approval on: never PENDING"
det=$(sq "SELECT details FROM events WHERE transid = '$tx' \
AND action = 'PKCSReq'")
tap_like "$det" '"intune":\{.*"validate":\{.*"code":"Success"' \
    "audit: validateRequest's code in the enrollment's details"
tap_like "$det" '"notify":\{.*"http":200' \
    "audit: successNotification's HTTP status in the details" ||
    diag "$det"
tap_like "$det" '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-' \
    "audit: client-request-id in the details"

# --- case 9: CertPoll on an Intune endpoint never calls Intune -------------
si_ctl reset '{}' >/dev/null
"$SCEPMSG" req -t certpoll -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$RA" -i "$CA" -x "$tx" -o "$d/poll.der" >"$d/req.txt" && {
	http_post "$IURL?operation=PKIOperation" "$d/poll.der" "$d/rep.der" \
	    >/dev/null
	scep_read_reply "$d"
}
tap_is "$(reply_field "$d" pkiStatus)" 0 "9: CertPoll answers SUCCESS"
tap_is "$(kinds)" "" "9: CertPoll: no Intune call"

# --- case 2: validateRequest refuses ---------------------------------------
for v in ERR-ChallengeExpired ERR-CsrValidationFailed ERR-BogusCode ERR- \
    LOWER NOCODE; do
	si_ctl reset '{}' >/dev/null
	d="$WORK/c2-$v"
	make_client "$d" "intune-$v" "STANDIN-$v/$v" || bail "make_client"
	before=$(ncerts)
	post "$d" "$IURL"
	case $v in
	ERR-) want='Intune validation failed' ;;
	LOWER) want='success' ;;
	NOCODE) want='Intune validation failed' ;;
	*) want=${v#ERR-} ;;
	esac
	tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" \
	    "2/2" "2: $v: FAILURE badRequest"
	tap_like "$(reply_field "$d" failInfoText)" "$want" \
	    "2: $v: failInfoText names it ($(reply_field "$d" failInfoText))"
	tap_is "$(ncerts)/$(kinds)" "$before/validateRequest" \
	    "2: $v: no certificate, no notification"
done

# --- case 3: validateRequest fails at HTTP level ---------------------------
for v in HTTP-500 HTML-500 HTTP-401 DROP GARBAGE; do
	si_ctl reset '{}' >/dev/null
	d="$WORK/c3-$v"
	make_client "$d" "intune-$v" "STANDIN-$v/$v" || bail "make_client"
	before=$(ncerts)
	post "$d" "$IURL"
	tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" \
	    "2/2" "3: $v: FAILURE badRequest ($(reply_field "$d" \
	    failInfoText))"
	tap_is "$(ncerts)" "$before" "3: $v: no certificate issued"
	tap_unlike "$(kinds)" Notification "3: $v: no notification"
done

# --- case 4: successNotification fails: revoke, FAILURE --------------------
si_ctl reset '{}' >/dev/null
d="$WORK/c4"
make_client "$d" intune-sn-fail "STANDIN-OK/SN:HTTP-500/c4" ||
    bail "make_client"
before=$(ncerts)
post "$d" "$IURL"
tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" "2/2" \
    "4: successNotification HTTP 500: FAILURE badRequest"
tap_like "$(reply_field "$d" failInfoText)" "[Nn]otification" \
    "4: failInfoText says the notification failed"
tap_is "$(ncerts)" $((before + 1)) "4: the certificate was signed ..."
serial=$(sq "SELECT serial FROM certs ORDER BY id DESC LIMIT 1")
tap_is "$(cert_status "$serial")" "2:5" \
    "4: ... and revoked, cessationOfOperation"
tap_check "4: nothing delivered" "$([ ! -s "$d/cert.pem" ]; echo $?)"
tap_like "$(kinds)" "^validateRequest,successNotification" \
    "4: validateRequest, then successNotification"
# The same request again (a client retry) must not fetch the revoked one.
http_post "$IURL?operation=PKIOperation" "$d/msg.der" "$d/rep.der" \
    >/dev/null
scep_read_reply "$d"
tap_is "$(reply_field "$d" pkiStatus)" 2 \
    "4: a re-send of that request is refused too"

# The don't-wait switch: SUCCESS at once, the notification still sent.
si_ctl reset '{}' >/dev/null
d="$WORK/c4n"
make_client "$d" intune-nowait "STANDIN-OK/SN:HTTP-500/c4n" ||
    bail "make_client"
post "$d" "$BASE_URL/scep/intune-nowait"
tap_is "$(reply_field "$d" pkiStatus)" 0 \
    "4: don't-wait switch: SUCCESS although the notification fails"
tap_check "4: don't-wait: certificate delivered" \
    "$([ -s "$d/cert.pem" ]; echo $?)"
for i in $(seq 50); do
	kinds | grep -q successNotification && break
	sleep 0.1
done
tap_like "$(kinds)" "successNotification" \
    "4: don't-wait: successNotification still sent"
serial=$(sq "SELECT serial FROM certs ORDER BY id DESC LIMIT 1")
tap_is "$(cert_status "$serial")" "1:0" "4: don't-wait: not revoked"

# --- case 5: the CA fails after a successful validation --------------------
si_ctl reset '{}' >/dev/null
sq "CREATE TRIGGER e2e_no_certs BEFORE INSERT ON certs BEGIN \
SELECT RAISE(ABORT, 'e2e: CA database down'); END;" ||
    bail "cannot add the trigger"
d="$WORK/c5"
make_client "$d" intune-ca-fail "STANDIN-OK/c5" || bail "make_client"
before=$(ncerts)
post "$d" "$IURL"
sq "DROP TRIGGER e2e_no_certs"
tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" "2/2" \
    "5: issuance fails: FAILURE badRequest"
tap_is "$(kinds)" "validateRequest,failureNotification" \
    "5: validateRequest, then failureNotification"
fn=$(calls | awk '$1 == "failureNotification"')
tap_like "$(echo "$fn" | awk '{print $4}')" '^-?[0-9]+$' \
    "5: failureNotification carries an integer hResult ($(echo "$fn" |
    awk '{print $4}'))"
tap_is "$(echo "$fn" | awk '{print $2}')" "$(txid_of "$d")" \
    "5: ... for that transaction"
tap_is "$(ncerts)" "$before" "5: no certificate in the store"
# The device sends the same request again (same key and transactionID):
# the recorded request is never issued without Intune's validation.
si_ctl reset '{}' >/dev/null
post "$d" "$IURL"
tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" "2/2" \
    "5: re-send after the CA failure: FAILURE badRequest"
tap_like "$(reply_field "$d" failInfoText)" "enroll again" \
    "5: ... saying to enroll again with a new challenge"
tap_is "$(ncerts)" "$before" "5: ... and still no certificate"
tap_is "$(count_all)" 0 "5: ... without calling Intune"

# --- case 7: no challenge: FAILURE, Intune not called ----------------------
si_ctl reset '{}' >/dev/null
d="$WORK/c7"
make_client "$d" intune-nochallenge || bail "make_client"
post "$d" "$IURL"
tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" "2/2" \
    "7: no challenge: FAILURE badRequest"
tap_like "$(reply_field "$d" failInfoText)" "challenge missing" \
    "7: failInfoText says the challenge is missing"
tap_is "$(count_all)" 0 "7: Intune not called (no call at all)"

# --- case 8: a plain endpoint never calls Intune ---------------------------
si_ctl reset '{}' >/dev/null
d="$WORK/c8"
make_client "$d" plain-device "$CHALLENGE" || bail "make_client"
post "$d" "$SCEP_URL"
tap_is "$(reply_field "$d" pkiStatus)" 0 "8: plain endpoint: SUCCESS"
tap_is "$(count_all)" 0 "8: plain endpoint: no call to the stand-in"

# --- scepclient (DES, SHA-1) on a legacy Intune endpoint -------------------
si_ctl reset '{}' >/dev/null
d="$WORK/sc"
mkdir -p "$d"
(cd "$d" && timeout 60 scepclient -server-url \
    "$BASE_URL/scep/intune-legacy" -private-key key.pem \
    -certificate cert.pem -cn intune-scepclient \
    -challenge "STANDIN-OK/scepclient") >"$d/out.txt" 2>&1
tap_check "scepclient 2.1.0 enrolls on a legacy Intune endpoint" \
    "$([ -s "$d/cert.pem" ]; echo $?)" || diag_text "$(cat "$d/out.txt")"
tap_is "$(kinds)" "validateRequest,successNotification" \
    "scepclient: validateRequest, then successNotification"
tap_is "$(calls | awk '{print $3}' | sort -u)" \
    "$(openssl req -in "$d/csr.pem" -outform DER | sha256sum |
    cut -d' ' -f1)" "13: scepclient's CSR bytes reach Intune unchanged"
tap_like "$(grep 'endpoint=intune-legacy op=PKIOperation msgtype=PKCSReq' \
    "$SCEPD_LOG" | grep result=SUCCESS | tail -n 1)" 'cipher=DES-CBC' \
    "scepclient sent a DES envelope (legacy endpoint)"

# --- case 6: the token endpoint rejects the secret -------------------------
si_ctl reset '{}' >/dev/null
si_ctl config '{"script": {"token": ["BADSECRET", "BADSECRET"]}}' >/dev/null
si_ctl expire_tokens '{}' >/dev/null
d="$WORK/c6"
make_client "$d" intune-badsecret "STANDIN-OK/c6" || bail "make_client"
before=$(ncerts)
post "$d" "$IURL"
tap_is "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" "2/2" \
    "6: token refused: FAILURE badRequest ($(reply_field "$d" failInfoText))"
tap_is "$(ncerts)" "$before" "6: no certificate issued"
tap_like "$(sq "SELECT details FROM events WHERE transid = \
'$(txid_of "$d")'")" "AADSTS7000215" \
    "6: the audit record names the AADSTS code"

# --- no stalls: slow Intune answers cost only Intune requests --------------
si_ctl reset '{}' >/dev/null
for n in 1 2 3 4; do
	d="$WORK/slow$n"
	make_client "$d" "intune-slow-$n" "STANDIN-SLOW-4000/slow$n" ||
	    bail "make_client"
	post "$d" "$IURL" &
	BG_PIDS="$BG_PIDS $!"
	eval "slow_pid$n=$!"
done
sleep 0.5
d="$WORK/fast"
make_client "$d" plain-fast "$CHALLENGE" || bail "make_client"
t0=$(date +%s%N)
post "$d" "$SCEP_URL"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
tap_is "$(reply_field "$d" pkiStatus)" 0 \
    "no stalls: plain enrollment while Intune answers in 4 s: SUCCESS"
tap_check "no stalls: ... in $ms ms (< 2000)" "$([ "$ms" -lt 2000 ]; echo $?)"
t0=$(date +%s%N)
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
    "$IURL?operation=GetCACaps")
t1=$(date +%s%N)
tap_is "$code" 200 "no stalls: GetCACaps on the Intune endpoint answers"
tap_check "no stalls: ... at once ($(((t1 - t0) / 1000000)) ms)" \
    "$([ $(((t1 - t0) / 1000000)) -lt 1000 ]; echo $?)"
for n in 1 2 3 4; do
	eval "wait \$slow_pid$n"
	tap_is "$(reply_field "$WORK/slow$n" pkiStatus)" 0 \
	    "no stalls: slow Intune enrollment $n: SUCCESS"
done

# --- queue full: HTTP 503 with Retry-After, at once --------------------------
si_ctl reset '{}' >/dev/null
for n in 1 2 3 4 5 6 7 8; do
	d="$WORK/busy$n"
	make_client "$d" "intune-busy-$n" "STANDIN-SLOW-3000/busy$n" ||
	    bail "make_client"
	"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
	    -k "$d/key.pem" -r "$RA" -o "$d/msg.der" >"$d/req.txt" ||
	    bail "scepmsg req"
done
pids=""
for n in 1 2 3 4 5 6 7 8; do
	d="$WORK/busy$n"
	curl -s -m 60 -D "$d/hdr" -o "$d/rep.der" -w '%{http_code} %{time_total}' \
	    -H 'Content-Type: application/x-pki-message' -H 'Expect:' \
	    --data-binary "@$d/msg.der" "$IURL?operation=PKIOperation" \
	    >"$d/code" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
n503=0; n200=0; fast=0; retry=0
for n in 1 2 3 4 5 6 7 8; do
	d="$WORK/busy$n"
	read -r code secs <"$d/code"
	case $code in
	503)	n503=$((n503 + 1))
		awk "BEGIN { exit !($secs < 1.5) }" && fast=$((fast + 1))
		grep -qi '^Retry-After: 5' "$d/hdr" && retry=$((retry + 1)) ;;
	200)	n200=$((n200 + 1)) ;;
	esac
done
tap_is "$n200/$n503" "6/2" \
    "queue full (4 workers, 2 queued): 6 answered 200, 2 got HTTP 503"
tap_is "$retry/$fast" "2/2" "queue full: the 503s carry Retry-After: 5, at once"

# --- shutdown while a request waits for Intune -----------------------------
si_ctl reset '{}' >/dev/null
d="$WORK/stop"
make_client "$d" intune-stop "STANDIN-SLOW-1500/stop" || bail "make_client"
post "$d" "$IURL" &
p=$!
sleep 0.5
finish_scepd
wait "$p"
tap_is "$(reply_field "$d" pkiStatus)" 0 \
    "SIGTERM while a request waits for Intune: it is still answered"
