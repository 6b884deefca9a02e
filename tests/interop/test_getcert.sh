#!/bin/bash
# test_getcert.sh -- the whole certmonger: certmonger-session and getcert
# on a private D-Bus session bus, enrolling from scepd with file-based keys.
#
# How it is driven, so that nothing global is touched:
#   * The file re-executes itself under dbus-run-session (a private session
#     bus that dies with the test).  HOME and every CERTMONGER_*_DIR point
#     into the work directory *before* the bus starts, so even a
#     bus-activated certmonger-session (the Debian package installs a
#     session service file for org.fedorahosted.certmonger) would keep its
#     state there; /var/lib/certmonger and ~/.config/certmonger are never
#     used.
#   * certmonger-session is started explicitly (-s -n -d 3, log in the work
#     directory) and we wait for it to own its bus name with NameHasOwner,
#     which does not trigger activation.
#   * getcert talks to it with -s (session bus).
#
# What certmonger 0.79 does, observed against the stand-in: add-scep-ca
# makes the daemon fetch GetCACaps and GetCACert; "getcert request -L"
# generates the key and a CSR with the challengePassword, then a v1
# "minicert" signer and a PKCSReq enveloped with AES-256-CBC (GetCACaps
# lists AES) and digest SHA-256, sent by scep-submit as GET PKIOperation.
# States seen: NEWLY_ADDED ... SUBMITTING, then MONITORING on success or
# CA_REJECTED on a CertRep FAILURE.  "getcert resubmit" renews with the
# same key, "getcert rekey" with a new one; both sign the PKCSReq with the
# previous certificate.  "getcert request -w" does not wait
# through every state, so we poll "getcert list" with a bounded timeout.
# The daemon stores the pkiMessage it sent (scep_req=) in its request
# file, which lets us check the cipher without trusting any log.

. "$(dirname "$0")/lib.sh"

CM_SESSION=/usr/lib/certmonger/certmonger-session

if [ -z "${INTEROP_IN_DBUS:-}" ]; then
	need dbus-run-session dbus-send getcert
	[ -x "$CM_SESSION" ] || { echo "Bail out! $CM_SESSION is missing"; exit 1; }
	INTEROP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-interop.XXXXXX") ||
	    { echo "Bail out! cannot create a work directory"; exit 1; }
	mkdir -p "$INTEROP_WORK/home" "$INTEROP_WORK/cm/tmp"
	export INTEROP_WORK INTEROP_IN_DBUS=1
	export HOME="$INTEROP_WORK/home"
	export XDG_CONFIG_HOME="$INTEROP_WORK/home/.config"
	export CERTMONGER_CONFIG_DIR="$INTEROP_WORK/cm/config"
	export CERTMONGER_REQUESTS_DIR="$INTEROP_WORK/cm/requests"
	export CERTMONGER_CAS_DIR="$INTEROP_WORK/cm/cas"
	export CERTMONGER_LOCAL_CA_DIR="$INTEROP_WORK/cm/local"
	export CERTMONGER_TMPDIR="$INTEROP_WORK/cm/tmp"
	exec dbus-run-session -- bash "$0" "$@"
fi

interop_init
need curl openssl python3 getcert dbus-send
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || bail "no private session bus"
case "${CERTMONGER_REQUESTS_DIR:-}" in
"$WORK"/*) ;;
*) bail "certmonger state is not confined to the work directory" ;;
esac

# cm_status ID: the status word of one tracking request.
cm_status()
{
	getcert list -s -i "$1" 2>/dev/null |
	    sed -n 's/^[[:space:]]*status: //p' | head -n 1
}

cm_field()
{
	getcert list -s -i "$1" 2>/dev/null |
	    sed -n "s/^[[:space:]]*$2: //p" | head -n 1
}

# wait_status ID STATE SECONDS: poll until ID is in STATE; stop early in
# a state certmonger will not leave on its own.  Sets LAST_STATUS.
wait_status()
{
	local id="$1" want="$2" secs="$3" i
	LAST_STATUS=""
	for i in $(seq $((secs * 4))); do
		LAST_STATUS=$(cm_status "$id")
		[ "$LAST_STATUS" = "$want" ] && return 0
		case "$LAST_STATUS" in
		CA_REJECTED|CA_UNREACHABLE|CA_UNCONFIGURED|NEED_GUIDANCE|\
		MONITORING|NEED_SCEP_RSA_CLIENT_KEY)
			[ "$i" -gt 8 ] && return 1 ;;
		esac
		sleep 0.25
	done
	return 1
}

# show_request ID: everything getcert knows, as diagnostics.
show_request()
{
	diag_text "$(getcert list -s -i "$1" 2>&1)"
}

# wait_new_cert ID CERTFILE OLDSERIAL SECONDS: poll until CERTFILE holds
# a certificate with another serial and ID is back in MONITORING; stop
# early in a state certmonger will not leave on its own.  Sets NEW_SERIAL.
wait_new_cert()
{
	local id="$1" file="$2" old="$3" secs="$4" i st
	NEW_SERIAL="$old"
	for i in $(seq $((secs * 4))); do
		NEW_SERIAL=$(cert_serial "$file")
		st=$(cm_status "$id")
		[ "$NEW_SERIAL" != "$old" ] && [ "$st" = MONITORING ] &&
		    return 0
		case "$st" in
		CA_REJECTED|CA_UNREACHABLE|NEED_GUIDANCE)
			[ "$i" -gt 8 ] && return 1 ;;
		esac
		sleep 0.25
	done
	return 1
}

# request_file ID: the daemon's file for tracking request ID.
request_file()
{
	grep -l "^id=$1\$" "$CERTMONGER_REQUESTS_DIR"/* 2>/dev/null | head -n 1
}

# scep_req_of ID OUT: the last PKCSReq the daemon sent, as PEM.
scep_req_of()
{
	local f
	f=$(request_file "$1") || return 1
	[ -n "$f" ] || return 1
	awk '/^scep_req=/ { on = 1; sub(/^scep_req=/, ""); print; next }
	    on && /^ / { sub(/^ /, ""); print; if ($0 ~ /-----END/) on = 0; next }
	    { on = 0 }' "$f" >"$2"
	[ -s "$2" ]
}

# fpr_hex FILE DIGEST: upper-case hex fingerprint without separators.
fpr_hex()
{
	openssl x509 -in "$1" -noout -fingerprint "-$2" 2>/dev/null |
	    sed 's/.*=//' | tr -d ':' | tr 'a-f' 'A-F'
}

# shellcheck disable=SC2119
start_scepd
W="$WORK"
INTEROP_EXTRA_LOGS="$W/certmonger.log"

# --- the daemon -----------------------------------------------------------
"$CM_SESSION" -s -n -d 3 >"$W/certmonger.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
owned=1
for i in $(seq 100); do
	if dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
	    org.freedesktop.DBus.NameHasOwner \
	    string:org.fedorahosted.certmonger 2>/dev/null |
	    grep -q 'boolean true'; then
		owned=0
		break
	fi
	sleep 0.1
done
tap_check "certmonger-session owns its name on the private bus" "$owned" ||
    bail "certmonger-session did not start"

# --- the CA ---------------------------------------------------------------
out=$(getcert add-scep-ca -s -c scepd -u "$SCEP_URL" 2>&1)
tap_check "getcert add-scep-ca" $? || diag_text "$out"
want_ca=$(fpr_hex "$CA_CERT" sha1)
got_ca=""
for i in $(seq 120); do
	got_ca=$(getcert list-cas -s -c scepd 2>/dev/null |
	    sed -n 's/.*SCEP CA certificate thumbprint (SHA1): //p' |
	    tr -d ' ' | head -n 1)
	[ -n "$got_ca" ] && break
	sleep 0.25
done
tap_is "$got_ca" "$want_ca" \
    "certmonger found the scepd CA certificate in GetCACert" ||
    diag_text "$(getcert list-cas -s -c scepd 2>&1)"
caps=$(getcert list-cas -s -c scepd 2>/dev/null)
diag_text "$caps"

# --- enrollment with a challenge --------------------------------------------
out=$(getcert request -s -c scepd -I good -k "$W/good.key" -f "$W/good.crt" \
    -N "CN=interop-getcert,O=scepd interop" -L "$CHALLENGE" 2>&1)
tap_check "getcert request -L <challenge>" $? || diag_text "$out"
wait_status good MONITORING 90
tap_is "$LAST_STATUS" MONITORING "request reaches MONITORING" ||
    show_request good
tap_check "certificate file written" "$([ -s "$W/good.crt" ]; echo $?)"
tap_ok "certificate verifies against the scepd CA" \
    cert_verifies "$W/good.crt"
tap_ok "certificate holds certmonger's key" \
    pubkey_matches "$W/good.crt" "$W/good.key"
tap_like "$(cert_subject "$W/good.crt")" 'CN=interop-getcert(,|$)' \
    "subject CN is the requested one"

# What certmonger sent: AES (never DES) and GET PKIOperation.
if scep_req_of good "$W/good-req.pem"; then
	openssl cms -verify -noverify -inform PEM -in "$W/good-req.pem" \
	    -binary -out "$W/good-env.der" 2>/dev/null
	tap_like "$(cms_cipher "$W/good-env.der")" '^aes-(128|192|256)-cbc$' \
	    "certmonger enveloped its PKCSReq with AES"
else
	tap_result 1 "certmonger enveloped its PKCSReq with AES (no scep_req)"
fi
# scepd logs one line per PKIOperation: "... msgtype=PKCSReq ...
# result=SUCCESS ... cipher=AES-256-CBC digest=SHA256 ...".
line=$(grep 'op=PKIOperation' "$SCEPD_LOG" | grep 'msgtype=PKCSReq' |
    grep 'result=SUCCESS' | head -n 1)
tap_like "$line" 'cipher=[Aa][Ee][Ss]-(128|192|256)-[Cc][Bb][Cc]' \
    "scepd logged an AES content cipher for certmonger's PKCSReq" ||
    diag_text "$(grep 'op=PKIOperation' "$SCEPD_LOG")"
# certmonger's scep-submit always sends PKIOperation with GET (see
# test_certmonger_submit.sh, which sees it on the client side); scepd
# logs the HTTP method of every PKIOperation.
tap_like "$(grep 'op=PKIOperation' "$SCEPD_LOG")" 'method=GET' \
    "scepd logged PKIOperation over GET (certmonger's transport)"

# --- wrong challenge ----------------------------------------------------------
out=$(getcert request -s -c scepd -I bad -k "$W/bad.key" -f "$W/bad.crt" \
    -N "CN=interop-bad" -L "not-$CHALLENGE" 2>&1)
tap_check "getcert request with a wrong challenge is accepted locally" $? ||
    diag_text "$out"
wait_status bad CA_REJECTED 90
tap_is "$LAST_STATUS" CA_REJECTED "wrong challenge ends in CA_REJECTED" ||
    show_request bad
tap_like "$(cm_field bad ca-error)" 'not permitted or is not supported' \
    "wrong challenge: ca-error carries failInfo badRequest"
tap_check "wrong challenge: no certificate file" \
    "$([ ! -e "$W/bad.crt" ]; echo $?)"

# --- renewal: getcert resubmit ------------------------------------------------
if [ -s "$W/good.crt" ]; then
	cp "$W/good.crt" "$W/good-old.crt"
	old_serial=$(cert_serial "$W/good-old.crt")
	out=$(getcert resubmit -s -i good 2>&1)
	tap_check "getcert resubmit" $? || diag_text "$out"
	wait_new_cert good "$W/good.crt" "$old_serial" 90
	tap_is "$(cm_status good)" MONITORING "renewal reaches MONITORING" ||
	    show_request good
	tap_isnt "$NEW_SERIAL" "$old_serial" "renewal: new certificate serial"
	tap_ok "renewal: certificate verifies against the scepd CA" \
	    cert_verifies "$W/good.crt"
	tap_ok "renewal: certificate holds the same key" \
	    pubkey_matches "$W/good.crt" "$W/good.key"
	# spec 13, 17.6: certmonger signs the renewal with the old certificate.
	if scep_req_of good "$W/renew-req.pem" &&
	    openssl cms -verify -noverify -inform PEM -in "$W/renew-req.pem" \
	    -binary -out /dev/null -signer "$W/renew-signer.pem" 2>/dev/null
	then
		tap_is "$(cert_serial "$W/renew-signer.pem")" "$old_serial" \
		    "renewal request was signed by the previous certificate"
	else
		tap_result 1 "renewal request was signed by the previous certificate"
	fi
else
	tap_result 1 "renewal: no first certificate to renew"
fi

# --- rekey: getcert rekey (a new key, the request signed by the old one) --
if [ -s "$W/good.crt" ]; then
	cp "$W/good.crt" "$W/good-prerekey.crt"
	cp "$W/good.key" "$W/good-oldkey.pem"
	old_serial=$(cert_serial "$W/good-prerekey.crt")
	out=$(getcert rekey -s -i good 2>&1)
	tap_check "getcert rekey" $? || diag_text "$out"
	wait_new_cert good "$W/good.crt" "$old_serial" 90
	tap_is "$(cm_status good)" MONITORING "rekey reaches MONITORING" ||
	    show_request good
	tap_isnt "$NEW_SERIAL" "$old_serial" "rekey: new certificate serial"
	tap_ok "rekey: certificate verifies against the scepd CA" \
	    cert_verifies "$W/good.crt"
	tap_ok "rekey: certificate holds certmonger's new key" \
	    pubkey_matches "$W/good.crt" "$W/good.key"
	tap_check "rekey: the key really changed" \
	    "$(! pubkey_matches "$W/good.crt" "$W/good-oldkey.pem"; echo $?)"
else
	tap_result 1 "rekey: no certificate to rekey"
fi

# --- the other URL forms (spec 2.1): enroll, refuse, renew ------------------
n=0
for url in "$SCEP_URL/pkiclient.exe" "$BASE_URL/cgi-bin/pkiclient.exe"; do
	n=$((n + 1))
	ca="scepd-form$n"
	out=$(getcert add-scep-ca -s -c "$ca" -u "$url" 2>&1)
	tap_check "$url: getcert add-scep-ca" $? || diag_text "$out"
	out=$(getcert request -s -c "$ca" -I "form$n" -k "$W/form$n.key" \
	    -f "$W/form$n.crt" -N "CN=interop-form$n" -L "$CHALLENGE" 2>&1)
	tap_check "$url: getcert request -L <challenge>" $? || diag_text "$out"
	wait_status "form$n" MONITORING 90
	tap_is "$LAST_STATUS" MONITORING "$url: request reaches MONITORING" ||
	    show_request "form$n"
	tap_ok "$url: certificate verifies against the scepd CA" \
	    cert_verifies "$W/form$n.crt"
	tap_ok "$url: certificate holds certmonger's key" \
	    pubkey_matches "$W/form$n.crt" "$W/form$n.key"
	out=$(getcert request -s -c "$ca" -I "formbad$n" \
	    -k "$W/formbad$n.key" -f "$W/formbad$n.crt" \
	    -N "CN=interop-formbad$n" -L "not-$CHALLENGE" 2>&1)
	tap_check "$url: wrong challenge accepted locally" $? ||
	    diag_text "$out"
	wait_status "formbad$n" CA_REJECTED 90
	tap_is "$LAST_STATUS" CA_REJECTED \
	    "$url: wrong challenge ends in CA_REJECTED" ||
	    show_request "formbad$n"
	if [ -s "$W/form$n.crt" ]; then
		old_serial=$(cert_serial "$W/form$n.crt")
		out=$(getcert resubmit -s -i "form$n" 2>&1)
		tap_check "$url: getcert resubmit" $? || diag_text "$out"
		wait_new_cert "form$n" "$W/form$n.crt" "$old_serial" 90
		tap_isnt "$NEW_SERIAL" "$old_serial" \
		    "$url: renewal gives a new certificate"
		tap_ok "$url: renewed certificate verifies" \
		    cert_verifies "$W/form$n.crt"
	else
		tap_result 1 "$url: renewal: no certificate to renew"
	fi
	out=$(getcert stop-tracking -s -i "formbad$n" 2>&1)
done

out=$(getcert stop-tracking -s -i bad 2>&1)
tap_check "getcert stop-tracking" $? || diag_text "$out"
finish_scepd
