#!/bin/bash
# test_softhsm.sh -- CA (and RA) keys in a PKCS#11 token (issue 8), with a
# real SoftHSM2 token, real clients (micromdm's scepclient, certmonger's
# scep-submit) and the openssl CLI.
#
# A token is created in a temporary directory (SOFTHSM2_CONF points at a
# softhsm2.conf there), an RSA key pair is generated in it with
# pkcs11-tool (opensc), `scepd init --ca-key-uri ... --pin-file F` makes
# the CA certificate for that key, `scepd serve` runs with key isolation
# on (the default: the key worker initialises the module after the fork,
# inside its sandbox) and off, and scepclient enrolls each time.  The
# issued certificate must verify against the CA whose key is in the
# token, and the data directory must hold no CA key file.  A second data
# directory puts the RA key in the token too (scepclient and certmonger's
# scep-submit, whose envelopes the token decrypts).

. "$(dirname "$0")/../interop/lib.sh"

interop_init
need scepclient softhsm2-util pkcs11-tool openssl curl python3 timeout
SUBMIT=/usr/lib/certmonger/scep-submit
[ -x "$SUBMIT" ] || bail "$SUBMIT is missing (package certmonger)"

MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -r "$MODULE" ] || bail "$MODULE missing (package softhsm2)"
PIN=20261207
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/tokens" >"$SOFTHSM2_CONF"
tap_ok "softhsm2-util creates the token" softhsm2-util --init-token \
    --free --label scepd --so-pin 12345678 --pin "$PIN"
tap_ok "pkcs11-tool generates the CA key pair in the token" \
    pkcs11-tool --module "$MODULE" --token-label scepd --login \
    --pin "$PIN" --keypairgen --key-type rsa:2048 --label ca --id 01
tap_ok "pkcs11-tool generates an EC P-256 CA key pair in the token" \
    pkcs11-tool --module "$MODULE" --token-label scepd --login \
    --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label ca-ec --id 03
tap_ok "pkcs11-tool generates an RA key pair in the token" \
    pkcs11-tool --module "$MODULE" --token-label scepd --login \
    --pin "$PIN" --keypairgen --key-type rsa:2048 --label ra --id 02
(umask 077 && echo "$PIN" >"$WORK/pin")
CA_URI='pkcs11:token=scepd;object=ca;type=private'
RA_URI='pkcs11:token=scepd;object=ra;type=private'

# init_hsm NAME ARGS...: scepd init of $WORK/NAME with the CA key in the
# token; sets DATA, BASE_URL, PORT and the lib.sh variables.
init_hsm()
{
	local name="$1"
	shift
	PORT=$(free_port) || bail "no free port"
	DATA="$WORK/$name"
	BASE_URL="http://127.0.0.1:$PORT"
	if ! "$SCEPD" init --data-dir "$DATA" --json --url "$BASE_URL" \
	    --legacy --ca-key-uri "${CA_URI_USE:-$CA_URI}" --pin-file "$WORK/pin" "$@" \
	    >"$WORK/$name.json" 2>"$WORK/$name.err"; then
		diag_file "$WORK/$name.err" "scepd init stderr"
		return 1
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$WORK/$name.err"; then
		diag_file "$WORK/$name.err" "scepd init stderr"
		return 1
	fi
	SCEP_URL=$(json_get "$WORK/$name.json" scep_url) &&
	    CHALLENGE=$(json_get "$WORK/$name.json" challenge) &&
	    CA_CERT=$(json_get "$WORK/$name.json" ca_cert)
}

# serve ISOLATION: scepd serve on $DATA; 0 once /healthz answers.
serve()
{
	SCEPD_LOG="$WORK/serve-$1-$(basename "$DATA").log"
	SCEPD_KEY_ISOLATION=$1 "$SCEPD" serve --data-dir "$DATA" \
	    --listen "127.0.0.1:$PORT" --log-level debug >"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	wait_healthz "$BASE_URL/healthz" 20 "$SCEPD_PID"
}

# enroll DIR CN: scepclient enrolls; 0 when it wrote a certificate.
enroll()
{
	local dir="$1" cn="$2"
	mkdir -p "$dir"
	(cd "$dir" && timeout 60 scepclient -server-url "$SCEP_URL" \
	    -private-key key.pem -certificate cert.pem -cn "$cn" \
	    -challenge "$CHALLENGE" -keySize 2048) >"$dir/out.txt" 2>&1
	[ -s "$dir/cert.pem" ] || { diag_file "$dir/out.txt" scepclient 20; return 1; }
}

# submit_check DIR WHAT: certmonger's scep-submit enrolls (AES-256 and
# SHA-256, the envelope to the RA of $DATA), and its certificate verifies.
submit_check()
{
	local d="$1" what="$2"
	make_client "$d" "submit-$what" "$CHALLENGE" >/dev/null 2>&1 &&
	    "$SCEPMSG" req -t pkcsreq -c "$d/csr.pem" -s "$d/self.pem" \
	    -k "$d/key.pem" -r "$DATA/ra.pem" -e aes256 -d sha256 -P \
	    -o "$d/msg.pem" >"$d/req.txt"
	timeout 60 "$SUBMIT" -u "$SCEP_URL" -r "$DATA/ra.pem" -N "$CA_CERT" \
	    -p "$d/msg.pem" >"$d/sub.out" 2>"$d/sub.err"
	tap_is $? 0 "certmonger scep-submit: certificate issued ($what)" ||
	    diag_text "$(cat "$d/sub.err")"
	openssl cms -decrypt -inform PEM -in "$d/sub.out" -recip "$d/self.pem" \
	    -inkey "$d/key.pem" -binary -out "$d/degen.der" 2>/dev/null &&
	    openssl pkcs7 -inform DER -in "$d/degen.der" -print_certs \
	    -out "$d/degen.pem" 2>/dev/null
	[ -s "$d/degen.pem" ] && split_certs "$d/degen.pem" "$d/degen" >/dev/null
	tap_ok "scep-submit's certificate verifies against the token's CA ($what)" \
	    cert_verifies "$d/degen.0.pem"
	tap_ok "scep-submit's certificate holds its key ($what)" \
	    pubkey_matches "$d/degen.0.pem" "$d/key.pem"
}

# token_pub LABEL: the public key of the token object, PEM.
token_pub()
{
	pkcs11-tool --module "$MODULE" --token-label scepd --read-object \
	    --type pubkey --label "$1" 2>/dev/null |
	    openssl pkey -pubin -inform DER -pubout 2>/dev/null
}

# --- the CA key in the token, RA key in a file ----------------------------
init_hsm ca
tap_check "scepd init --ca-key-uri makes a CA for the key in the token" $?
ca_pub=$(openssl x509 -in "$CA_CERT" -noout -pubkey 2>/dev/null)
tap_is "$ca_pub" "$(token_pub ca)" \
    "the CA certificate carries the token key's public key"
tap_ok "the CA certificate is self-signed with the token key" \
    openssl verify -CAfile "$CA_CERT" "$CA_CERT"
keyfiles=$(find "$DATA" -name 'ca*.key' | wc -l)
tap_is "$keyfiles" 0 "no CA key file in the data directory"
tap_unlike "$(grep -r -l -- "BEGIN.*PRIVATE KEY" "$DATA" 2>/dev/null |
    grep -v '/keys/ra-1.key$')" . \
    "the only private key on disk is the RA's key file"
tap_like "$(cat "$DATA/scepd.conf")" "pkcs11_module = $MODULE" \
    "scepd.conf names the module"
tap_unlike "$(cat "$DATA/scepd.conf" "$WORK/ca.json")" "$PIN" \
    "the PIN is neither in scepd.conf nor in init's output"

for iso in on off; do
	serve "$iso"
	tap_check "scepd serve starts (key isolation $iso)" $?
	if [ "$iso" = on ]; then
		# RA creation through the API: the CA key in the token
		# certifies a new RA key, which scepd writes as a file.
		token=$(json_get "$WORK/ca.json" admin_token)
		code=$(curl -s -o "$WORK/ra-new.json" -w '%{http_code}' \
		    -H "Authorization: Bearer $token" \
		    -H 'Content-Type: application/json' \
		    -d '{"ca_id":1,"subject":"CN=scepd RA 2","usage":"sign-encrypt","days":30,"state":"next"}' \
		    "$BASE_URL/api/v1/ras")
		tap_is "$code" 201 "POST /api/v1/ras: the token's CA key certifies a new RA"
		newkey=$(find "$DATA/keys" -name 'ra-*-*.key' -perm 0600 | wc -l)
		tap_is "$newkey" 1 "the new RA key is a 0600 file in keys/"
		tap_like "$(cat "$SCEPD_LOG")" "pkcs11 path readable.*tokens" \
		    "the key processes may read the token directory"
		tap_like "$(cat "$SCEPD_LOG")" "keyproc: sandboxed" \
		    "the key processes are sandboxed"
	fi
	tap_ok "scepclient enrolls (isolation $iso)" \
	    enroll "$WORK/client-ca-$iso" "hsm-$iso"
	tap_ok "the issued certificate verifies against the token's CA" \
	    cert_verifies "$WORK/client-ca-$iso/cert.pem"
	tap_ok "the issued certificate holds the client's key" \
	    pubkey_matches "$WORK/client-ca-$iso/cert.pem" \
	    "$WORK/client-ca-$iso/key.pem"
	tap_unlike "$(cat "$SCEPD_LOG")" "$PIN" "the PIN is not in the log"
	finish_scepd
done

# --- a wrong PIN: the key does not load, the server says so ---------------
(umask 077 && echo 0000 >"$WORK/badpin")
sed -i "s|^pkcs11_pin_file = .*|pkcs11_pin_file = $WORK/badpin|" \
    "$DATA/scepd.conf"
serve on
mkdir -p "$WORK/client-badpin"
(cd "$WORK/client-badpin" && timeout 60 scepclient -server-url "$SCEP_URL" \
    -private-key key.pem -certificate cert.pem -cn badpin \
    -challenge "$CHALLENGE" -keySize 2048) >/dev/null 2>&1
tap_check "with a wrong PIN no certificate is issued" \
    "$([ ! -s "$WORK/client-badpin/cert.pem" ]; echo $?)"
tap_like "$(cat "$SCEPD_LOG")" "login failed|no such private key" \
    "the log says the token key did not load"
tap_unlike "$(cat "$SCEPD_LOG")" "0000\"" "the wrong PIN is not logged"
stop_scepd

# --- CA and RA keys both in the token, PIN from the environment -----------
init_hsm both --ra-key-uri "$RA_URI"
tap_check "scepd init with --ca-key-uri and --ra-key-uri" $?
sed -i '/^pkcs11_pin_file/d' "$DATA/scepd.conf"
tap_is "$(find "$DATA/keys" -type f | wc -l)" 0 \
    "no key file at all in the data directory"
ra_pub=$(openssl x509 -in "$DATA/ra.pem" -noout -pubkey 2>/dev/null)
tap_is "$ra_pub" "$(token_pub ra)" "the RA certificate is for the token's RA key"
for iso in on off; do
	SCEPD_PKCS11_PIN="$PIN"
	export SCEPD_PKCS11_PIN
	serve "$iso"
	tap_check "scepd serve starts, PIN from SCEPD_PKCS11_PIN ($iso)" $?
	unset SCEPD_PKCS11_PIN
	tap_ok "scepclient enrolls, envelope decrypted in the token ($iso)" \
	    enroll "$WORK/client-both-$iso" "both-$iso"
	tap_ok "that certificate verifies against the token's CA ($iso)" \
	    cert_verifies "$WORK/client-both-$iso/cert.pem"
	submit_check "$WORK/submit-$iso" "$iso"
	if [ "$iso" = on ]; then
		# scepd (the HTTP process) itself drops the PIN variable.
		tap_unlike "$(tr '\0' '\n' <"/proc/$SCEPD_PID/environ" 2>/dev/null)" \
		    "$PIN" "scepd's environment no longer holds the PIN"
	fi
	finish_scepd
done

# --- init: an existing CA certificate for the token key; refused URIs -----
"$SCEPD" init --data-dir "$WORK/imp" --json --url "http://127.0.0.1:9" \
    --import-ca "$WORK/ca/ca.pem" "$CA_URI" --pin-file "$WORK/pin" \
    >"$WORK/imp.json" 2>"$WORK/imp.err"
tap_is $? 0 "scepd init --import-ca CERT pkcs11:URI" ||
    diag_file "$WORK/imp.err" "init stderr"
tap_is "$(cert_fpr "$WORK/imp/ca.pem")" "$(cert_fpr "$WORK/ca/ca.pem")" \
    "the imported CA certificate is kept as it is"
tap_is "$(find "$WORK/imp/keys" -name 'ca*' | wc -l)" 0 \
    "no CA key file after importing a certificate for a token key"
"$SCEPD" init --data-dir "$WORK/bad" --ca-key-uri \
    'pkcs11:token=scepd;object=ca?pin-value=1234' >/dev/null 2>&1
tap_is $? 2 "scepd init refuses a key URI that carries a PIN"
tap_check "nothing is created for a refused URI" \
    "$([ ! -e "$WORK/bad" ]; echo $?)"
"$SCEPD" init --data-dir "$WORK/nokey" --json --url "http://127.0.0.1:9" \
    --ca-key-uri 'pkcs11:token=scepd;object=nosuchkey' \
    --pin-file "$WORK/pin" >/dev/null 2>"$WORK/nokey.err"
tap_isnt $? 0 "scepd init fails for a key that is not in the token"
tap_like "$(cat "$WORK/nokey.err")" "cannot use the CA key in the token" \
    "and says so"

# --- an EC P-256 CA key in the token (ECDSA through the module) ------------
CA_URI_USE='pkcs11:token=scepd;object=ca-ec;type=private' init_hsm ec
tap_check "scepd init with an EC P-256 CA key in the token" $?
tap_like "$(openssl x509 -in "$CA_CERT" -noout -text 2>/dev/null)" \
    "ecdsa-with-SHA256" "the CA certificate is signed with ECDSA by the token"
tap_is "$(openssl x509 -in "$CA_CERT" -noout -pubkey 2>/dev/null)" \
    "$(token_pub ca-ec)" "the EC CA certificate carries the token key"
serve on
tap_check "scepd serve starts (EC CA in the token, isolation on)" $?
submit_check "$WORK/submit-ec" "EC CA"
finish_scepd
