#!/bin/bash
# test_certmonger_submit.sh -- certmonger's SCEP helper,
# /usr/lib/certmonger/scep-submit (certmonger 0.79), used standalone.
#
# How scep-submit works (certmonger src/scep.c, observed with a recording
# proxy): -c sends GetCACaps&message=0; -C sends GetCACert&message=0 and,
# when it gets a single certificate, GetCACert&message=1.. (the Dogtag
# walk), then prints the RA certificate, the CA certificate and any
# others as PEM.  -p (PKCSReq) and -g (CertPoll, "GetInitialCert") first
# fetch GetCACaps, then send the pkiMessage with **GET**
# operation=PKIOperation&message=<percent-encoded base64>, even when
# POSTPKIOperation is advertised.  It verifies the CertRep with the CA
# given by -N (the "signing CA"; -R is only the TLS trust anchor), checks
# transactionID and recipientNonce, and on SUCCESS prints the
# pkcsPKIEnvelope as PEM for the daemon to decrypt.  Exit status: 0
# issued, 1/5 pending, 2 rejected, 3 unreachable, 4 unconfigured.
#
# The daemon never hands scep-submit a file: it sets CERTMONGER_OPERATION,
# CERTMONGER_PKCSREQ, CERTMONGER_SCEP_RA_CERTIFICATE and
# CERTMONGER_SCEP_CA_CERTIFICATE in the environment; one enrollment below
# drives it exactly that way.
#
# The pkiMessages come from scepmsg (our helper), built the way
# certmonger's scepgen builds them: a v1 self-signed "minicert" signer,
# AES-256-CBC envelope, SHA-256 digest (what certmonger 0.79 picks when
# GetCACaps lists AES and SHA-256), and renewal as a PKCSReq signed by the
# previous certificate (spec 13, 17.6).

. "$(dirname "$0")/lib.sh"

SUBMIT=/usr/lib/certmonger/scep-submit

interop_init
need curl openssl python3 timeout
[ -x "$SUBMIT" ] || bail "$SUBMIT is missing (package certmonger)"

# submit OUTPREFIX ARGS...: run scep-submit, stdout/stderr into files.
submit()
{
	local out="$1"
	shift
	timeout 60 "$SUBMIT" -u "$SCEP_URL" "$@" >"$out.out" 2>"$out.err"
}

# open_reply DIR SIGNER KEY: decrypt the envelope scep-submit printed
# (DIR/sub.out) into DIR/issued.pem (the first certificate).
open_reply()
{
	local dir="$1"
	openssl cms -decrypt -inform PEM -in "$dir/sub.out" -recip "$2" \
	    -inkey "$3" -binary -out "$dir/degen.der" \
	    -provider legacy -provider default 2>"$dir/decrypt.err" ||
	    return 1
	openssl pkcs7 -inform DER -in "$dir/degen.der" -print_certs \
	    -out "$dir/degen.pem" || return 1
	[ "$(split_certs "$dir/degen.pem" "$dir/degen")" -ge 1 ] || return 1
	cp "$dir/degen.0.pem" "$dir/issued.pem"
}

# check_cert DIR CN WHAT: DIR/issued.pem is a certificate for DIR/key.pem.
check_cert()
{
	local dir="$1" cn="$2" what="$3"
	tap_ok "$what: certificate verifies against the scepd CA" \
	    cert_verifies "$dir/issued.pem"
	tap_ok "$what: certificate holds the requested public key" \
	    pubkey_matches "$dir/issued.pem" "$dir/key.pem"
	tap_like "$(cert_subject "$dir/issued.pem")" "CN=$cn(,|$)" \
	    "$what: subject CN is the requested one"
}

# shellcheck disable=SC2119
start_scepd
W="$WORK"

# --- -c: GetCACaps ----------------------------------------------------------
submit "$W/caps" -c
tap_is $? 0 "scep-submit -c succeeds"
for k in AES POSTPKIOperation SHA-256; do
	tap_check "scep-submit -c lists $k" \
	    "$(caps_has "$W/caps.out" "$k"; echo $?)"
done

# --- -C: GetCACert ----------------------------------------------------------
submit "$W/certs" -C
tap_is $? 0 "scep-submit -C succeeds" || diag_text "$(cat "$W/certs.out")"
ncerts=$(split_certs "$W/certs.out" "$W/sub")
tap_check "scep-submit -C prints at least one certificate" \
    "$([ "$ncerts" -ge 1 ]; echo $?)"
fetch_cacerts "$W/ref" >/dev/null || bail "GetCACert failed"
if [ "$(cert_fpr "$W/ref/ra.pem")" != "$CA_FPR" ]; then
	# RFC 8894 4.2.1.2: with an RA, scep-submit prints RA, then CA.
	tap_is "$(cert_fpr "$W/sub.0.pem")" "$(cert_fpr "$W/ref/ra.pem")" \
	    "scep-submit -C: first certificate is the RA certificate"
	tap_is "$(cert_fpr "$W/sub.1.pem" 2>/dev/null)" "$CA_FPR" \
	    "scep-submit -C: second certificate is the CA"
else
	tap_is "$(cert_fpr "$W/sub.0.pem")" "$CA_FPR" \
	    "scep-submit -C: the certificate is the CA (CA answers directly)"
fi
RA="$W/ref/ra.pem"
CA="$W/ref/ca.pem"

# --- -p: PKCSReq as certmonger builds it (AES-256, SHA-256) ----------------
d="$W/enroll"
make_client "$d" interop-submit "$CHALLENGE" || bail "cannot make a CSR"
"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$RA" -e aes256 -d sha256 -P -o "$d/msg.pem" >"$d/req.txt" ||
    bail "scepmsg req failed"
submit "$d/sub" -r "$RA" -N "$CA" -p "$d/msg.pem" -v
rc=$?
tap_is "$rc" 0 "scep-submit -p: certificate issued" ||
    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
# -v logs each request line on stderr.
tap_like "$(cut -c1-200 "$d/sub.err")" \
    '^GET ".*[?]operation=PKIOperation&message=' \
    "scep-submit sent the PKCSReq as GET PKIOperation"
tap_like "$(head -n 1 "$d/sub.out")" '^-----BEGIN PKCS7-----$' \
    "scep-submit -p prints the pkcsPKIEnvelope as PEM"
tap_is "$(cms_cipher "$d/sub.out" PEM)" aes-256-cbc \
    "reply envelope uses the request's cipher, AES-256-CBC (spec 9.2)"
open_reply "$d" "$d/self.pem" "$d/key.pem"
tap_check "the envelope decrypts with the client key to a certs-only bag" \
    $? || diag_text "$(cat "$d/decrypt.err")"
check_cert "$d" interop-submit "PKCSReq"
first_cert="$d/issued.pem"

# --- the daemon's way: everything in the environment -------------------------
d="$W/envmode"
make_client "$d" interop-envmode "$CHALLENGE" || bail "cannot make a CSR"
"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$RA" -e aes128 -d sha256 -P -o "$d/msg.pem" >"$d/req.txt" ||
    bail "scepmsg req failed"
CERTMONGER_OPERATION=SUBMIT \
CERTMONGER_PKCSREQ="$(cat "$d/msg.pem")" \
CERTMONGER_SCEP_RA_CERTIFICATE="$(cat "$RA")" \
CERTMONGER_SCEP_CA_CERTIFICATE="$(cat "$CA")" \
    timeout 60 "$SUBMIT" -u "$SCEP_URL" >"$d/sub.out" 2>"$d/sub.err"
tap_is $? 0 "scep-submit driven by CERTMONGER_* variables: issued" ||
    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
tap_is "$(cms_cipher "$d/sub.out" PEM)" aes-128-cbc \
    "reply envelope uses AES-128-CBC like the request"
open_reply "$d" "$d/self.pem" "$d/key.pem"
tap_check "environment mode: envelope decrypts" $?
check_cert "$d" interop-envmode "environment mode"

# --- wrong challenge --------------------------------------------------------
d="$W/wrong"
make_client "$d" interop-wrong "not-$CHALLENGE" || bail "cannot make a CSR"
"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$RA" -e aes256 -d sha256 -P -o "$d/msg.pem" >"$d/req.txt" ||
    bail "scepmsg req failed"
submit "$d/sub" -r "$RA" -N "$CA" -p "$d/msg.pem"
tap_is $? 2 "wrong challenge: scep-submit reports a rejection (exit 2)" ||
    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
# failInfo badRequest (2) is what spec 19 item 16 asks for.
tap_like "$(cat "$d/sub.out")" 'not permitted or is not supported' \
    "wrong challenge: the CertRep says failInfo badRequest"
tap_unlike "$(cat "$d/sub.out")" 'BEGIN PKCS7' \
    "wrong challenge: no envelope printed"

# --- renewal, certmonger style: PKCSReq signed by the old certificate -----
d="$W/renew"
mkdir -p "$d"
make_client "$d" interop-submit || bail "cannot make a CSR"
if [ -s "$first_cert" ]; then
	"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$first_cert" \
	    -k "$W/enroll/key.pem" -r "$RA" -e aes256 -d sha256 -P \
	    -o "$d/msg.pem" >"$d/req.txt" || bail "scepmsg req failed"
	submit "$d/sub" -r "$RA" -N "$CA" -p "$d/msg.pem"
	tap_is $? 0 "renewal (new key, signed by the old certificate): issued" ||
	    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
	# spec 9.2: the reply is encrypted to the request's signer, the old
	# certificate.
	open_reply "$d" "$first_cert" "$W/enroll/key.pem"
	tap_check "renewal: envelope opens with the old certificate's key" $?
	check_cert "$d" interop-submit "renewal"
	new_serial=$(cert_serial "$d/issued.pem")
	tap_check "renewal: a new serial number" \
	    "$([ -n "$new_serial" ] &&
	    [ "$new_serial" != "$(cert_serial "$first_cert")" ]; echo $?)"
else
	tap_result 1 "renewal: no first certificate to renew"
fi

# --- -g: CertPoll for a transaction the server never saw -----------------
d="$W/poll"
make_client "$d" interop-poll "$CHALLENGE" || bail "cannot make a CSR"
"$SCEPMSG" req -t certpoll -c "$d/csr.pem" -s "$d/self.pem" -k "$d/key.pem" \
    -r "$RA" -i "$CA" -e aes256 -d sha256 -P -o "$d/msg.pem" >"$d/req.txt" ||
    bail "scepmsg req failed"
submit "$d/sub" -r "$RA" -N "$CA" -g "$d/msg.pem"
tap_is $? 2 "CertPoll for an unknown transaction is rejected (spec 14)" ||
    diag_text "$(cat "$d/sub.out" "$d/sub.err")"

# --- manual approval: PENDING, CertPoll, approve / reject ------------------
if have_scepctl; then
	out=$("$SCEPCTL" endpoint create --name "Interop manual" --ext manual \
	    --type device --manual-approval --json 2>&1)
	tap_check "scepctl endpoint create --manual-approval" $? ||
	    diag_text "$out"
	"$SCEPCTL" account create --endpoint manual --name interop-manual \
	    --json >"$W/manual.json" 2>&1
	tap_check "scepctl account create for the manual endpoint" $? ||
	    diag_text "$(cat "$W/manual.json")"
	mchal=$(json_get "$W/manual.json" challenge)
	murl="$BASE_URL/scep/manual"
	fetch_cacerts "$W/mref" "$murl" >/dev/null
	for which in approve reject; do
		d="$W/manual-$which"
		make_client "$d" "interop-manual-$which" "$mchal" ||
		    bail "cannot make a CSR"
		"$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
		    -k "$d/key.pem" -r "$W/mref/ra.pem" -e aes256 -P \
		    -o "$d/msg.pem" >"$d/req.txt" || bail "scepmsg req failed"
		txid=$(sed -n 's/^transactionID=//p' "$d/req.txt")
		timeout 60 "$SUBMIT" -u "$murl" -r "$W/mref/ra.pem" \
		    -N "$W/mref/ca.pem" -p "$d/msg.pem" >"$d/sub.out" \
		    2>"$d/sub.err"
		rc=$?
		tap_check "manual ($which): PKCSReq answered PENDING (exit 1 or 5)" \
		    "$([ "$rc" -eq 1 ] || [ "$rc" -eq 5 ]; echo $?)" ||
		    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
		"$SCEPCTL" request list --json >"$d/list.json" 2>&1
		id=$(python3 -c 'import json, sys
data = json.load(open(sys.argv[1]))
if isinstance(data, dict):
    data = data.get("items", [])
for r in data:
    if str(r.get("transid", "")) == sys.argv[2]:
        print(r.get("id"))
        break' "$d/list.json" "$txid" 2>/dev/null)
		tap_check "manual ($which): request listed by scepctl" \
		    "$([ -n "$id" ]; echo $?)" ||
		    diag_text "$(cat "$d/list.json")"
		out=$("$SCEPCTL" request "$which" "$id" 2>&1)
		tap_check "manual ($which): scepctl request $which" $? ||
		    diag_text "$out"
		"$SCEPMSG" req -t certpoll -c "$d/csr.pem" -s "$d/self.pem" \
		    -k "$d/key.pem" -r "$W/mref/ra.pem" -i "$W/mref/ca.pem" \
		    -x "$txid" -e aes256 -P -o "$d/poll.pem" >/dev/null ||
		    bail "scepmsg req failed"
		timeout 60 "$SUBMIT" -u "$murl" -r "$W/mref/ra.pem" \
		    -N "$W/mref/ca.pem" -g "$d/poll.pem" >"$d/sub.out" \
		    2>"$d/sub.err"
		rc=$?
		if [ "$which" = approve ]; then
			tap_is "$rc" 0 "manual: CertPoll after approval issues" ||
			    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
			open_reply "$d" "$d/self.pem" "$d/key.pem"
			check_cert "$d" "interop-manual-$which" \
			    "manual approval"
		else
			tap_is "$rc" 2 "manual: CertPoll after rejection fails" ||
			    diag_text "$(cat "$d/sub.out" "$d/sub.err")"
		fi
	done
else
	tap_skip "scepctl not built" "manual approval with CertPoll"
fi

finish_scepd
