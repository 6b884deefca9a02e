#!/bin/bash
# test_scepclient.sh -- micromdm's scepclient (Debian package "scep" 2.1.0)
# against scepd.
#
# What scepclient 2.1.0 really sends (captured with a recording proxy):
# GetCACert, GetCACaps, then POST PKIOperation with Content-Type
# application/octet-stream; the pkcsPKIEnvelope is DES-CBC (1.3.14.3.2.7)
# whatever GetCACaps says, the SignerInfo digest is SHA-1 with
# sha1WithRSAEncryption, and the envelope goes to every certificate of the
# GetCACert answer (or the one named by -ca-fingerprint).  So it needs an
# endpoint whose legacy switch is on (spec 17.8), and without that switch
# it must be refused with FAILURE badAlg (spec 19 item 13).
#
# Renewal: run again with the key and certificate it wrote; it then sends
# a RenewalReq (17) signed by that certificate, without a challenge,
# reusing its csr.pem from the working directory, and overwrites the
# certificate file on success.
#
# scepclient writes csr.pem and self.pem into its working directory, so
# every run gets its own directory.

. "$(dirname "$0")/lib.sh"

interop_init
need scepclient curl openssl python3 timeout

# run_scepclient DIR URL [options...]: exit status of scepclient, its
# output in DIR/out.txt.
run_scepclient()
{
	local dir="$1" url="$2"
	shift 2
	mkdir -p "$dir"
	(cd "$dir" && timeout 60 scepclient -server-url "$url" \
	    -private-key key.pem -certificate cert.pem "$@") \
	    >"$dir/out.txt" 2>&1
}

# check_issued DIR CN WHAT: the certificate scepclient wrote is real.
check_issued()
{
	local dir="$1" cn="$2" what="$3"
	tap_check "$what: certificate written" \
	    "$([ -s "$dir/cert.pem" ]; echo $?)" || {
		diag_text "$(cat "$dir/out.txt")"
		return 1
	}
	tap_ok "$what: certificate verifies against the scepd CA" \
	    cert_verifies "$dir/cert.pem"
	tap_ok "$what: certificate holds the client's public key" \
	    pubkey_matches "$dir/cert.pem" "$dir/key.pem"
	tap_like "$(cert_subject "$dir/cert.pem")" "CN=$cn(,|$)" \
	    "$what: subject CN is the requested one"
}

start_scepd --legacy

# --- GetCACaps (RFC 8894 3.5.2, spec 3) ---------------------------------
res=$(http_get "$SCEP_URL?operation=GetCACaps" "$WORK/caps.txt")
tap_is "${res%% *}" 200 "GetCACaps answers 200"
tap_is "${res#* }" text/plain "GetCACaps content type is text/plain"
for k in AES POSTPKIOperation SHA-256 SCEPStandard; do
	tap_check "GetCACaps lists $k" \
	    "$(caps_has "$WORK/caps.txt" "$k"; echo $?)"
done
tap_unlike "$(tr -d '\r' <"$WORK/caps.txt")" '^(DES|MD5)$' \
    "GetCACaps never advertises single DES or MD5"

# --- GetCACert (RFC 8894 4.2, spec 4) ------------------------------------
ctype=$(fetch_cacerts "$WORK/cacert")
tap_check "GetCACert parses and contains the CA from scepd init" $?
tap_like "$ctype" '^application/x-x509-ca(-ra)?-cert$' \
    "GetCACert content type is x-x509-ca-cert or x-x509-ca-ra-cert"
if [ "$ctype" = application/x-x509-ca-ra-cert ]; then
	tap_ok "GetCACert bag is a degenerate PKCS#7 (openssl pkcs7)" \
	    openssl pkcs7 -inform DER -in "$WORK/cacert/getcacert.der" \
	    -print_certs -noout
	tap_ok "the RA certificate chains to the CA" \
	    cert_verifies "$WORK/cacert/ra.pem"
else
	tap_ok "GetCACert body is one DER certificate (openssl x509)" \
	    openssl x509 -inform DER -in "$WORK/cacert/getcacert.der" -noout
fi
tap_is "$(cert_fpr "$WORK/cacert/ca.pem")" "$(cert_fpr "$CA_CERT")" \
    "GetCACert CA equals ca_cert from scepd init"

# --- enrollment over every URL form (spec 2.1) ---------------------------
if [ -n "$STANDIN" ]; then
	forms="$SCEP_URL"
else
	forms="$SCEP_URL $SCEP_URL/pkiclient.exe $SCEP_URL/cgi-bin/pkiclient.exe
	    $BASE_URL/cgi-bin/pkiclient.exe"
fi
n=0
for url in $forms; do
	n=$((n + 1))
	path=${url#"$BASE_URL"}
	res=$(http_get "$url?operation=GetCACaps" "$WORK/caps.$n.txt")
	tap_is "${res%% *}" 200 "GetCACaps at $path answers 200"
	run_scepclient "$WORK/form$n" "$url" -challenge "$CHALLENGE" \
	    -cn "interop-form$n"
	tap_check "scepclient enrolls at $path" $? ||
	    diag_text "$(cat "$WORK/form$n/out.txt")"
	check_issued "$WORK/form$n" "interop-form$n" "$path"
done

# What scepclient sent, as scepd saw it (one log line per PKIOperation).
if [ -z "$STANDIN" ]; then
	line=$(grep 'op=PKIOperation' "$SCEPD_LOG" | grep 'msgtype=PKCSReq' |
	    grep 'result=SUCCESS' | head -n 1)
	tap_like "$line" 'cipher=DES-CBC digest=SHA1( |$)' \
	    "scepd saw scepclient's DES-CBC envelope and SHA-1 digest" ||
	    diag_text "$(grep 'op=PKIOperation' "$SCEPD_LOG")"
fi

# --- wrong challenge ------------------------------------------------------
run_scepclient "$WORK/wrong" "$SCEP_URL" -challenge "not-$CHALLENGE" \
    -cn interop-wrong
rc=$?
tap_isnt "$rc" 0 "scepclient with a wrong challenge exits non-zero"
tap_check "wrong challenge: no certificate written" \
    "$([ ! -e "$WORK/wrong/cert.pem" ]; echo $?)"
tap_like "$(cat "$WORK/wrong/out.txt")" 'request failed, failInfo: ' \
    "wrong challenge: scepclient got a CertRep FAILURE with failInfo"

# --- -ca-fingerprint: the client pins one certificate of the bag --------
# scepclient then encrypts to that certificate only and also accepts
# CertReps signed by it only, so with an RA it must pin the RA: pinning the
# CA makes it reject the RA-signed reply ("pkcs7: No certificate for
# signer") although scepd decrypts and issues (test_algorithms.sh covers
# the envelope made for the CA certificate with our own client).
pin=$(cert_fpr "$WORK/cacert/ra.pem")
run_scepclient "$WORK/pinned" "$SCEP_URL" -challenge "$CHALLENGE" \
    -cn interop-pinned -ca-fingerprint "$pin"
tap_check "scepclient -ca-fingerprint <RA (or CA-direct) SHA-256> enrolls" \
    $? || diag_text "$(cat "$WORK/pinned/out.txt")"
check_issued "$WORK/pinned" interop-pinned "pinned fingerprint"

# --- renewal: re-run with the existing key and certificate --------------
# (the first URL form that produced a certificate, so that one failed
# enrollment above does not also hide the renewal result)
dir=""
for i in $(seq "$n"); do
	[ -s "$WORK/form$i/cert.pem" ] && { dir="$WORK/form$i"; break; }
done
if [ -n "$dir" ]; then
	cn=$(basename "$dir")
	cp "$dir/cert.pem" "$dir/old.pem"
	old_serial=$(cert_serial "$dir/old.pem")
	caps_has "$WORK/caps.txt" Renewal ||
	    diag "note: GetCACaps does not list Renewal"
	run_scepclient "$dir" "$SCEP_URL" -cn "interop-$cn"
	tap_check "scepclient renews (RenewalReq signed by its certificate)" \
	    $? || diag_text "$(cat "$dir/out.txt")"
	tap_isnt "$(cert_serial "$dir/cert.pem")" "$old_serial" \
	    "renewal: the certificate was replaced (new serial)"
	check_issued "$dir" "interop-$cn" "renewal"
	if [ -z "$STANDIN" ]; then
		tap_like "$(grep 'op=PKIOperation' "$SCEPD_LOG")" \
		    'msgtype=RenewalReq .*result=SUCCESS' \
		    "scepd handled the renewal as a RenewalReq"
	fi
else
	tap_result 1 "renewal: no first certificate to renew"
fi

# --- the legacy switch: the same client on a strict endpoint -------------
if have_scepctl; then
	out=$("$SCEPCTL" endpoint create --name "Interop strict" --ext strict \
	    --type device --json 2>&1)
	tap_check "scepctl endpoint create (no --legacy)" $? ||
	    diag_text "$out"
	"$SCEPCTL" account create --endpoint strict --name interop-strict \
	    --json >"$WORK/strict.json" 2>&1
	tap_check "scepctl account create for the strict endpoint" $? ||
	    diag_text "$(cat "$WORK/strict.json")"
	strict_chal=$(json_get "$WORK/strict.json" challenge)
	run_scepclient "$WORK/strict" "$BASE_URL/scep/strict" \
	    -challenge "$strict_chal" -cn interop-strict
	tap_isnt $? 0 "DES request refused without the legacy switch"
	tap_check "strict endpoint: no certificate written" \
	    "$([ ! -e "$WORK/strict/cert.pem" ]; echo $?)"
	tap_like "$(cat "$WORK/strict/out.txt")" 'failInfo: badAlg' \
	    "strict endpoint: refusal is a CertRep FAILURE badAlg"
else
	tap_skip "scepctl not built" "legacy switch off refuses scepclient"
fi

finish_scepd
