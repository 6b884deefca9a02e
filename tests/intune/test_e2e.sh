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
# Revocation requests (spec 9) polled every second, for the accounts that
# ask for them (none until the GetCRL case switches it on).
export SCEPD_INTUNE_POLL_INTERVAL=1
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
C1_SERIAL=$serial
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
# The Azure account by id and by name, as the name was at the time: rename
# the account (admin API), enroll again, the old record keeps the old name.
AID=$(sq "SELECT id FROM azure_accounts LIMIT 1")
IEP=$(sq "SELECT id FROM endpoints WHERE uri_ext = 'intune'")
tap_like "$det" "\"azure_account_id\":$AID,\"azure_account_name\":\"stand-in tenant\"" \
    "audit: the Azure account by id and by name"
api() { curl -s -m 10 -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' "$@"; }
tap_is "$(api -X PATCH -d '{"name": "renamed tenant"}' -o /dev/null \
    -w '%{http_code}' "$BASE_URL/api/v1/azure-accounts/$AID")" 200 \
    "audit: the account renamed through the admin API"
d="$WORK/c1r"
make_client "$d" intune-device-1r "STANDIN-OK/n1r" || bail "make_client"
post "$d" "$IURL"
tap_is "$(reply_field "$d" pkiStatus)" 0 "audit: enrolled after the rename"
tap_like "$(sq "SELECT details FROM events WHERE transid = '$(txid_of "$d")' \
AND action = 'PKCSReq'")" "\"azure_account_id\":$AID,\"azure_account_name\":\"renamed tenant\"" \
    "audit: the new record has the new name"
tap_is "$(sq "SELECT details FROM events WHERE transid = '$tx' \
AND action = 'PKCSReq'")" "$det" "audit: the earlier record keeps the old name"
exp=$(api "$BASE_URL/api/v1/endpoints/$IEP/audit?format=csv&limit=1000")
tap_like "$exp" 'azure_account_name"":""stand-in tenant""' \
    "audit export (CSV): the old name on the earlier record"
tap_like "$exp" 'azure_account_name"":""renamed tenant""' \
    "audit export (CSV): the new name on the later one"
d="$WORK/c1"	# case 9 polls for case 1's request

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

# --- GetCert, GetCRL and CertPoll on an Intune endpoint (spec 9) -----------
# Same rules as on plain endpoints, never an Intune call; the certificate
# case 1 got through Intune, the CRL after an administrator's revocation
# and after the section 9 revocation poller's.
si_ctl reset '{}' >/dev/null
dg="$WORK/getcert"
mkdir -p "$dg"
cp "$WORK/c1/key.pem" "$WORK/c1/self.pem" "$dg/"
# ias_op TYPE SERIAL TXID: GetCert/GetCRL for issuer $CA, serial SERIAL
# (hex), signed by case 1's device key; the reply in $dg/rep.txt, the
# certificate in $dg/cert.pem or the CRL in $dg/crl.pem.
ias_op()
{
	rm -f "$dg/cert.pem" "$dg/crl.pem"
	"$SCEPMSG" req -t "$1" -s "$dg/self.pem" -k "$dg/key.pem" -r "$RA" \
	    -i "$CA" -S "$2" -x "$3" -o "$dg/msg.der" >"$dg/req.txt" ||
	    return 1
	http_post "$IURL?operation=PKIOperation" "$dg/msg.der" "$dg/rep.der" \
	    >/dev/null
	"$SCEPMSG" rep -i "$dg/rep.der" -s "$dg/self.pem" -k "$dg/key.pem" \
	    -C "$CA" -x "$3" -N "$(sed -n 's/^senderNonce=//p' "$dg/req.txt")" \
	    $([ "$1" = getcrl ] && echo "-L $dg/crl.pem" ||
	    echo "-o $dg/cert.pem") >"$dg/rep.txt" 2>"$dg/rep.err"
}
# crl_serials: the serials the CRL lists, upper-case hex, no leading 0s.
crl_serials() { openssl crl -in "$dg/crl.pem" -noout -text |
    sed -n 's/^ *Serial Number: *//p' | sed 's/^0*//' | tr 'a-f' 'A-F'; }
crl_ok() { openssl crl -in "$dg/crl.pem" -CAfile "$CA" -noout 2>&1; }

ias_op getcert "$C1_SERIAL" gc-1
tap_is "$(reply_field "$dg" pkiStatus)/$(reply_field "$dg" txidMatch)/$(reply_field "$dg" recipientNonceMatch)" \
    "0/yes/yes" "GetCert of the certificate Intune validated: SUCCESS" ||
    diag_text "$(cat "$dg/rep.txt" "$dg/rep.err")"
tap_is "$(openssl x509 -in "$dg/cert.pem" -noout -serial 2>/dev/null |
    sed 's/^serial=0*//')/$(openssl x509 -in "$dg/cert.pem" -noout \
    -subject -nameopt RFC2253 2>/dev/null | sed -n 's/.*CN=\([^,]*\).*/\1/p')" \
    "$C1_SERIAL/intune-device-1" "GetCert: it is that certificate"
tap_is "$(openssl x509 -in "$dg/cert.pem" -outform DER 2>/dev/null |
    sha256sum | cut -d' ' -f1)" "$(sq "SELECT lower(hex(der)) FROM certs \
WHERE serial = '$C1_SERIAL'" | xxd -r -p | sha256sum | cut -d' ' -f1)" \
    "GetCert: byte for byte the stored certificate"
ias_op getcert 0DEAD0BEEF gc-2
tap_is "$(reply_field "$dg" pkiStatus)/$(reply_field "$dg" failInfo)" "2/4" \
    "GetCert of an unknown serial: FAILURE badCertId"
ias_op getcrl "$C1_SERIAL" gcrl-1
tap_is "$(reply_field "$dg" pkiStatus)/$(reply_field "$dg" crls)" "0/1" \
    "GetCRL: SUCCESS with one CRL" ||
    diag_text "$(cat "$dg/rep.txt" "$dg/rep.err")"
tap_like "$(crl_ok)" 'verify OK' "GetCRL: the CRL verifies with the CA"
tap_unlike "$(crl_serials)" "^$C1_SERIAL\$" \
    "GetCRL: the certificate is not listed (not revoked)"
# CertPoll of a transaction that does not exist.
"$SCEPMSG" req -t certpoll -c "$WORK/c1/csr.pem" -s "$dg/self.pem" \
    -k "$dg/key.pem" -r "$RA" -i "$CA" -x no-such-transaction \
    -o "$dg/poll.der" >"$dg/req.txt" && {
	http_post "$IURL?operation=PKIOperation" "$dg/poll.der" "$dg/rep.der" \
	    >/dev/null
	scep_read_reply "$dg"
}
tap_is "$(reply_field "$dg" pkiStatus)/$(reply_field "$dg" failInfo)/$(reply_field "$dg" failInfoText)" \
    "2/2/no request with this transactionID" \
    "CertPoll of an unknown transaction: FAILURE badRequest"
tap_is "$(count_all)" 0 "GetCert, GetCRL, CertPoll: no call to the stand-in"

# An administrator revokes the certificate of the rename case (keyCompromise).
C1R_SERIAL=$(sq "SELECT serial FROM events WHERE transid = '$(txid_of \
"$WORK/c1r")' AND action = 'PKCSReq'")
tap_is "$(api -X POST -d '{"reason": "keyCompromise"}' -o /dev/null -w '%{http_code}' \
    "$BASE_URL/api/v1/certificates/$C1R_SERIAL/revoke")" 200 \
    "admin API: revoke an Intune-issued certificate"
ias_op getcrl "$C1_SERIAL" gcrl-2
tap_is "$(reply_field "$dg" pkiStatus)" 0 "GetCRL after that: SUCCESS"
tap_like "$(crl_serials)" "^$C1R_SERIAL\$" "GetCRL: it lists that certificate"

# Intune asks for case 1's certificate to be revoked (spec 9): the poller
# (SCEPD_INTUNE_POLL_INTERVAL=1) of an account with revocation polling on.
si_ctl config "{\"revocations\": [{\"requestContext\": \"ctx-e2e\", \
\"serialNumber\": \"$C1_SERIAL\"}]}" >/dev/null
tap_is "$(api -X PATCH -d '{"revocation_poll": true}' -o /dev/null \
    -w '%{http_code}' "$BASE_URL/api/v1/azure-accounts/$AID")" 200 \
    "revocation polling switched on (admin API)"
for i in $(seq 100); do
	[ "$(cert_status "$C1_SERIAL")" = "2:5" ] && break
	sleep 0.2
done
tap_is "$(cert_status "$C1_SERIAL")" "2:5" \
    "the poller revoked it (cessationOfOperation)"
api -X PATCH -d '{"revocation_poll": false}' -o /dev/null \
    "$BASE_URL/api/v1/azure-accounts/$AID"
si_ctl config '{"revocations": []}' >/dev/null
for i in $(seq 50); do
	si_ctl calls | grep -q ctx-e2e && break
	sleep 0.2
done
tap_like "$(si_ctl calls | python3 -c 'import json, sys
for c in json.load(sys.stdin)["calls"]:
    for r in ((c.get("json") or {}).get("results") or []):
        if isinstance(r, dict):
            print(r.get("requestContext"), r.get("succeeded"))')" \
    "^ctx-e2e True$" "the poller told Intune it succeeded"
ias_op getcrl "$C1_SERIAL" gcrl-3
tap_is "$(reply_field "$dg" pkiStatus)" 0 "GetCRL after the poller: SUCCESS"
tap_like "$(crl_serials)" "^$C1_SERIAL\$" "GetCRL: it lists the certificate"
tap_like "$(openssl crl -in "$dg/crl.pem" -noout -text)" \
    'Cessation Of Operation' "GetCRL: reason cessationOfOperation"
ias_op getcert "$C1_SERIAL" gc-3
tap_is "$(reply_field "$dg" pkiStatus)" 0 \
    "GetCert of the revoked certificate: still SUCCESS"
tap_unlike "$(kinds)" . "GetCert/GetCRL after revocation: no ScepActions call"

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

# --- challenge guessing (issue 8): Intune refusals count in the limiter -----
# The same per-source limiter as plain endpoints (svc_limit.c): a named
# refusal from validateRequest counts; an outage of Microsoft's never does.
# Each source is its own loopback address, so the other cases are untouched.
# post_from ADDR DIR URL TXID: scepmsg + curl from ADDR.
post_from()
{
	local a="$1" d="$2" u="$3" x="$4"
	"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
	    -k "$d/key.pem" -r "$RA" -e aes256 -d sha256 -x "$x" \
	    -o "$d/msg.der" >"$d/req.txt" || return 1
	curl -s -m 60 --interface "$a" -o "$d/rep.der" \
	    -H 'Content-Type: application/x-pki-message' -H 'Expect:' \
	    --data-binary "@$d/msg.der" "$u?operation=PKIOperation" \
	    >/dev/null || return 1
	scep_read_reply "$d"
}
nvalidate() { calls | awk '$1 == "validateRequest"' | wc -l; }
LOCKED='too many failed challenge attempts from this address'

si_ctl reset '{}' >/dev/null
d="$WORK/outage"
make_client "$d" intune-outage "STANDIN-OK/o0" || bail "make_client"
nlocked=0; n=0
for v in HTTP-500 HTML-500 DROP GARBAGE NOCODE ERR-Unknown ERR- HTTP-500; do
	n=$((n + 1))
	make_client "$d" intune-outage "STANDIN-$v/o$n" || bail "make_client"
	post_from 127.0.0.8 "$d" "$IURL" "outage-$n"
	case $(reply_field "$d" failInfoText) in
	"$LOCKED"*) nlocked=$((nlocked + 1)) ;;
	esac
done
tap_is "$nlocked/$(nvalidate)" "0/8" \
    "guessing: 8 Intune outages/no-code answers from one source: no lockout, each validated"
make_client "$d" intune-outage "STANDIN-OK/o-ok" || bail "make_client"
post_from 127.0.0.8 "$d" "$IURL" "outage-ok"
tap_is "$(reply_field "$d" pkiStatus)" 0 \
    "guessing: ... and that source's next good challenge enrolls"

# A source sending refused challenges: five are free, then backoff (1, 2,
# 4, 8 ... s).  One CSR (the stand-in refuses its challenge every time),
# a new transactionID per request, and nothing slow between requests:
# keep sending until a lockout of >= 6 s holds (under load the shorter
# ones may end before the next request arrives).  The messages of the
# checks below are built before, so they arrive while it holds.
si_ctl reset '{}' >/dev/null
d="$WORK/guess"
make_client "$d" intune-guess "STANDIN-ERR-ChallengeExpired/g" ||
    bail "make_client"
dk="$WORK/guess-ok"
mkdir -p "$dk"
cp "$d/key.pem" "$dk/key.pem"
make_client "$dk" intune-guess "STANDIN-OK/g-ok" || bail "make_client"
"$SCEPMSG" req -t pkcsreq -c "$dk/csr.pem" -s "$dk/self.pem" -k "$dk/key.pem" \
    -r "$RA" -x guess-ok -o "$dk/msg.der" >"$dk/req.txt" || bail "scepmsg req"
dp="$WORK/guess-plain"
make_client "$dp" plain-guess "wrong-challenge" || bail "make_client"
"$SCEPMSG" req -t pkcsreq -c "$dp/csr.pem" -s "$dp/self.pem" -k "$dp/key.pem" \
    -r "$RA" -x guess-plain -o "$dp/msg.der" >"$dp/req.txt" ||
    bail "scepmsg req"
# send_from ADDR DIR URL: POST DIR/msg.der from ADDR, read the reply.
send_from()
{
	curl -s -m 60 --interface "$1" -o "$2/rep.der" \
	    -H 'Content-Type: application/x-pki-message' -H 'Expect:' \
	    --data-binary "@$2/msg.der" "$3?operation=PKIOperation" \
	    >/dev/null || return 1
	scep_read_reply "$2"
}
refused=0; first_lock=0; locked=0; wait_s=0; bad_ans=0
t_end=$(($(date +%s) + 90))
i=0
while [ "$(date +%s)" -lt "$t_end" ]; do
	i=$((i + 1))
	"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
	    -k "$d/key.pem" -r "$RA" -x "guess-$i" -o "$d/msg.der" \
	    >"$d/req.txt" || bail "scepmsg req"
	send_from 127.0.0.7 "$d" "$IURL"
	[ "$(reply_field "$d" pkiStatus)/$(reply_field "$d" failInfo)" = 2/2 ] ||
	    bad_ans=$((bad_ans + 1))
	txt=$(reply_field "$d" failInfoText)
	case $txt in
	"$LOCKED"*)
		locked=$((locked + 1))
		[ "$first_lock" -eq 0 ] && first_lock=$refused
		wait_s=$(echo "$txt" | sed -n 's/.*retry in \([0-9]*\) s$/\1/p')
		[ "${wait_s:-0}" -ge 6 ] && break
		sleep 0.2 ;;
	*ChallengeExpired*)
		refused=$((refused + 1)) ;;
	*)	bad_ans=$((bad_ans + 1)) ;;
	esac
done
# While it holds: a good challenge from that source is not even sent to
# Intune, and the plain endpoint gives that source the same answer.
send_from 127.0.0.7 "$dk" "$IURL"
send_from 127.0.0.7 "$dp" "$SCEP_URL"
tap_check "guessing: refused challenges lock the source out ($refused refused, $locked locked-out answers, last: retry in ${wait_s:-?} s)" \
    "$([ "$locked" -gt 0 ] && [ "${wait_s:-0}" -ge 6 ]; echo $?)"
tap_check "guessing: the first 5 failures are free (first lockout after $first_lock)" \
    "$([ "$first_lock" -ge 6 ]; echo $?)"
tap_is "$(nvalidate)" "$refused" \
    "guessing: validateRequest calls = refusals: no locked-out request reached Intune"
tap_is "$bad_ans" 0 "guessing: every answer FAILURE badRequest"
tap_like "$(reply_field "$dk" pkiStatus)/$(reply_field "$dk" failInfo)/$(reply_field "$dk" failInfoText)" \
    "^2/2/$LOCKED; retry in [0-9]+ s\$" \
    "guessing: while locked out, even a good challenge is refused ..."
tap_unlike "$(calls | awk '{print $2}')" '^guess-ok$' \
    "guessing: ... without calling Intune"
tap_like "$(reply_field "$dp" pkiStatus)/$(reply_field "$dp" failInfo)/$(reply_field "$dp" failInfoText)" \
    "^2/2/$LOCKED; retry in [0-9]+ s\$" \
    "guessing: the plain endpoint gives the locked-out source the same answer"
do_="$WORK/guess-other"
make_client "$do_" intune-other "STANDIN-OK/g-other" || bail "make_client"
post_from 127.0.0.1 "$do_" "$IURL" "guess-other"
tap_is "$(reply_field "$do_" pkiStatus)" 0 \
    "guessing: another source enrolls on the Intune endpoint"
# Audited like plain failures: the refusal that locked the source out and
# the locked-out answers, with the source address.
tap_like "$(sq "SELECT reason FROM events WHERE client_addr = '127.0.0.7' \
AND reason LIKE '%now locked out%' ORDER BY id LIMIT 1")" \
    '^Intune validation failed: ChallengeExpired \([0-9]+ failures from this address; now locked out\)$' \
    "guessing: audit: the refusal names the failure count and the lockout"
tap_like "$(sq "SELECT count(*) FROM events WHERE client_addr = '127.0.0.7' \
AND action = 'PKCSReq' AND result = 'FAILURE' AND reason LIKE \
'too many failed challenge attempts%'")" '^[1-9]' \
    "guessing: audit: the locked-out requests are recorded"

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
