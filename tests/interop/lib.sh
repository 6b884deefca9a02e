# lib.sh -- shared plumbing for the interop tests; sourced by test_*.sh.
#
# What it gives a test file:
#   * TAP output: tap_ok, tap_is, tap_like, tap_unlike, tap_skip, diag,
#     bail; the plan ("1..N") is printed at exit, so a test file may stop
#     early without a count mismatch.
#   * One private work directory ($WORK) and one scepd per test file:
#     start_scepd [--legacy] runs "scepd init" on a fresh data directory
#     and a free loopback port, starts "scepd serve" and waits for
#     /healthz.  An EXIT trap stops everything this file started (also on
#     failure or interruption), prints the scepd log when any assertion
#     failed, and removes $WORK (kept when INTEROP_KEEP=1).
#   * Small helpers around openssl, curl and scepmsg (our own client-side
#     message tool, scepmsg.c).
#
# Environment (set by tests/interop/meson.build):
#   SCEPD    the scepd binary (required)
#   SCEPCTL  the scepctl binary (optional; tests that need it skip without)
#   SCEPMSG  the scepmsg helper (required)
#
# Developer fallback, never used by meson: INTEROP_STANDIN=scepserver with
# SCEPD unset runs micromdm's scepserver instead (a CA-only server with no
# admin API, no URL forms and DES replies), to exercise the scripts
# themselves before scepd exists.
#
# Everything listens on and talks to 127.0.0.1 only.

set -u

TAP_N=0
TAP_FAILED=0
WORK=""
SCEPD_PID=""
SCEPD_LOG=""
BG_PIDS=""
STANDIN=""

# --- TAP ----------------------------------------------------------------

# tap_result STATUS DESC: STATUS 0 is a pass.
tap_result()
{
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# tap_ok DESC CMD...: passes when CMD exits 0 (its output is discarded
# unless it fails, then it is shown as diagnostics).
tap_ok()
{
	local desc="$1" out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	tap_result "$rc" "$desc"
	[ "$rc" -eq 0 ] || diag_text "$out"
	return "$rc"
}

# tap_check DESC COND: COND is an exit status computed by the caller.
tap_check()
{
	tap_result "$2" "$1"
	return "$2"
}

tap_is()
{
	local got="$1" want="$2" desc="$3"
	if [ "$got" = "$want" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		diag "got:      '$got'"
		diag "expected: '$want'"
		return 1
	fi
}

tap_isnt()
{
	local got="$1" other="$2" desc="$3"
	if [ "$got" != "$other" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		diag "got '$got', which it must not be"
		return 1
	fi
}

# tap_like TEXT ERE DESC
tap_like()
{
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_result 0 "$3"
	else
		tap_result 1 "$3"
		diag "no match for /$2/ in:"
		diag_text "$1"
		return 1
	fi
}

tap_unlike()
{
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_result 1 "$3"
		diag "unexpected match for /$2/ in:"
		diag_text "$1"
		return 1
	fi
	tap_result 0 "$3"
}

tap_skip()
{
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $2 # SKIP $1"
}

diag()
{
	echo "# $*"
}

diag_text()
{
	printf '%s\n' "$1" | head -n 60 | sed 's/^/#   /'
}

diag_file()
{
	[ -f "$1" ] || return 0
	echo "# --- $2 (last ${3:-80} lines) ---"
	tail -n "${3:-80}" "$1" | sed 's/^/#   /'
}

# bail MSG: stop the whole file; meson reports it as an error.
bail()
{
	echo "Bail out! $*"
	TAP_FAILED=$((TAP_FAILED + 1))
	exit 1
}

# --- lifecycle ------------------------------------------------------------

interop_cleanup()
{
	local rc=$? p
	trap - EXIT INT TERM HUP
	stop_scepd
	for p in $BG_PIDS; do
		kill_wait "$p"
	done
	if [ "$TAP_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		diag_file "$SCEPD_LOG" "scepd log" 150
		[ -n "${INTEROP_EXTRA_LOGS:-}" ] && for p in $INTEROP_EXTRA_LOGS; do
			diag_file "$p" "$(basename "$p")" 80
		done
	fi
	echo "1..$TAP_N"
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "${INTEROP_KEEP:-0}" = 1 ]; then
			diag "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	[ "$TAP_FAILED" -gt 0 ] && rc=1
	exit "$rc"
}

# kill_wait PID: SIGTERM, up to 5 s for it to go, then SIGKILL.
kill_wait()
{
	local pid="$1" i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# interop_init: make $WORK and install the cleanup trap.  A test file that
# re-executes itself (test_getcert.sh under dbus-run-session) passes its
# work directory down in INTEROP_WORK.
interop_init()
{
	if [ -n "${INTEROP_WORK:-}" ] && [ -d "$INTEROP_WORK" ]; then
		WORK="$INTEROP_WORK"
	else
		WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-interop.XXXXXX") ||
		    bail "cannot create a work directory"
	fi
	trap interop_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	SCEPMSG="${SCEPMSG:-}"
	if [ -z "$SCEPMSG" ] || [ ! -x "$SCEPMSG" ]; then
		bail "SCEPMSG is not set to the built scepmsg helper"
	fi
	if [ -z "${SCEPD:-}" ]; then
		if [ "${INTEROP_STANDIN:-}" = scepserver ]; then
			STANDIN=scepserver
			diag "stand-in mode: micromdm scepserver, not scepd"
		else
			bail "SCEPD is not set (run through meson test)"
		fi
	elif [ ! -x "$SCEPD" ]; then
		bail "SCEPD=$SCEPD is not executable"
	fi
}

# need PROGRAM...: a missing client is a failure, not a skip (STYLE H15).
need()
{
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 ||
		    bail "$p is not installed (tools/deps.sh test installs it)"
	done
}

have_scepctl()
{
	[ -z "$STANDIN" ] && [ -n "${SCEPCTL:-}" ] && [ -x "$SCEPCTL" ]
}

free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# json_get FILE KEY: one top-level string/number value of a JSON object.
json_get()
{
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
if v is None:
    sys.exit(1)
print(v)' "$1" "$2"
}

# wait_healthz URL SECONDS PID: 0 when URL answers 200 "ok".
wait_healthz()
{
	local url="$1" secs="$2" pid="$3" i body
	for i in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || return 1
		body=$(curl -s -m 2 "$url" 2>/dev/null) && [ "$body" = ok ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

# shellcheck disable=SC2120
# start_scepd [--legacy]: one scepd for this test file.  Sets BASE_URL,
# SCEP_URL, CHALLENGE, CA_FPR (lower-case hex, no colons), CA_CERT,
# ADMIN_TOKEN, SCEPD_URL/SCEPD_TOKEN (for scepctl), SCEPD_LOG.
start_scepd()
{
	local legacy="" try port data
	[ "${1:-}" = --legacy ] && legacy=--legacy
	if [ -n "$STANDIN" ]; then
		start_standin
		return
	fi
	for try in 1 2 3; do
		port=$(free_port) || bail "no free port"
		data="$WORK/scepd-$try"
		BASE_URL="http://127.0.0.1:$port"
		SCEPD_LOG="$WORK/scepd-$try.log"
		# shellcheck disable=SC2086
		init_scepd "$data" $legacy
		"$SCEPD" serve --data-dir "$data" --listen "127.0.0.1:$port" \
		    >"$SCEPD_LOG" 2>&1 &
		SCEPD_PID=$!
		if wait_healthz "$BASE_URL/healthz" 20 "$SCEPD_PID"; then
			break
		fi
		diag "scepd did not become ready on port $port (try $try)"
		diag_file "$SCEPD_LOG" "scepd log" 20
		stop_scepd
		[ "$try" -eq 3 ] && bail "scepd serve never became ready"
	done
	diag "scepd pid $SCEPD_PID at $SCEP_URL"
}

# init_scepd DATA [init options]: scepd init --json of a new data
# directory DATA for $BASE_URL, its answer in $WORK/init.json.  Sets
# SCEP_URL, CHALLENGE, CA_FPR (lower-case hex, no colons), CA_CERT,
# ADMIN_TOKEN and SCEPD_URL/SCEPD_TOKEN (exported, for scepctl); bails
# when init fails or leaves one of them out.
init_scepd()
{
	local data=$1
	shift
	if ! "$SCEPD" init --data-dir "$data" --json --url "$BASE_URL" "$@" \
	    >"$WORK/init.json" 2>"$WORK/init.err"; then
		diag_file "$WORK/init.err" "scepd init stderr"
		bail "scepd init failed"
	fi
	SCEP_URL=$(json_get "$WORK/init.json" scep_url) ||
	    bail "scepd init printed no scep_url"
	CHALLENGE=$(json_get "$WORK/init.json" challenge) ||
	    bail "scepd init printed no challenge"
	CA_FPR=$(json_get "$WORK/init.json" ca_fingerprint_sha256 |
	    tr -d ':' | tr 'A-F' 'a-f') ||
	    bail "scepd init printed no ca_fingerprint_sha256"
	CA_CERT=$(json_get "$WORK/init.json" ca_cert) ||
	    bail "scepd init printed no ca_cert"
	ADMIN_TOKEN=$(json_get "$WORK/init.json" admin_token) || ADMIN_TOKEN=""
	SCEPD_URL="$BASE_URL"
	SCEPD_TOKEN="$ADMIN_TOKEN"
	export SCEPD_URL SCEPD_TOKEN
	[ -f "$CA_CERT" ] || bail "ca_cert $CA_CERT does not exist"
}

# The developer stand-in (see the header): micromdm scepserver with a CA
# that carries digitalSignature, so certmonger can verify its replies.
start_standin()
{
	local port depot="$WORK/depot"
	need scepserver
	mkdir -p "$depot"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$depot/ca.p8" \
	    -out "$depot/ca.pem" -days 30 -subj "/CN=Interop stand-in CA" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment" \
	    -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null ||
	    bail "cannot make the stand-in CA"
	openssl rsa -in "$depot/ca.p8" -traditional -des3 -passout pass:pw \
	    -out "$depot/ca.key" 2>/dev/null || bail "cannot convert the CA key"
	port=$(free_port) || bail "no free port"
	BASE_URL="http://127.0.0.1:$port"
	SCEPD_LOG="$WORK/scepserver.log"
	CHALLENGE="standin-$$"
	scepserver -depot "$depot" -capass pw -port "$port" \
	    -challenge "$CHALLENGE" -allowrenew 0 >"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	local i
	for i in $(seq 100); do
		curl -s -m 2 -o /dev/null "$BASE_URL/scep?operation=GetCACaps" &&
		    break
		sleep 0.1
	done
	SCEP_URL="$BASE_URL/scep"
	CA_CERT="$depot/ca.pem"
	CA_FPR=$(cert_fpr "$CA_CERT")
	ADMIN_TOKEN=""
}

stop_scepd()
{
	[ -n "$SCEPD_PID" ] || return 0
	kill_wait "$SCEPD_PID"
	SCEPD_PID=""
}

# finish_scepd: the last assertions of a test file.  scepd must still be
# running, must exit 0 on SIGTERM within 10 s, and its log must hold no
# sanitizer report (the ASan/UBSan build runs these tests too).
finish_scepd()
{
	local i st=0 log
	tap_check "scepd is still running" "$(scepd_alive; echo $?)" ||
	    return 1
	if [ -n "$STANDIN" ]; then
		stop_scepd
		return 0
	fi
	kill -TERM "$SCEPD_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$SCEPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SCEPD_PID" 2>/dev/null; then
		tap_result 1 "scepd exits within 10 s of SIGTERM"
		stop_scepd
		return 1
	fi
	wait "$SCEPD_PID"
	st=$?
	SCEPD_PID=""
	tap_is "$st" 0 "scepd exits 0 on SIGTERM"
	log=$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$SCEPD_LOG" 2>/dev/null)
	tap_is "$log" "" "scepd log holds no sanitizer report"
}

scepd_alive()
{
	[ -n "$SCEPD_PID" ] && kill -0 "$SCEPD_PID" 2>/dev/null
}

# --- HTTP -----------------------------------------------------------------

# http_get URL OUT: prints "<status> <content-type>".
http_get()
{
	curl -s -m 30 -o "$2" -w '%{http_code} %{content_type}' "$1"
}

# http_post URL INFILE OUT [CONTENT-TYPE]: prints "<status> <content-type>".
http_post()
{
	curl -s -m 60 -o "$3" -w '%{http_code} %{content_type}' \
	    -H "Content-Type: ${4:-application/x-pki-message}" -H 'Expect:' \
	    --data-binary "@$2" "$1"
}

# caps_has CAPSFILE KEYWORD: an exact line (RFC 8894 3.5.2), CR tolerated.
caps_has()
{
	tr -d '\r' <"$1" | grep -qx -- "$2"
}

# --- certificates -----------------------------------------------------------

# cert_fpr PEM: lower-case SHA-256 fingerprint, no colons.
cert_fpr()
{
	openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null |
	    sed 's/.*=//' | tr -d ':' | tr 'A-F' 'a-f'
}

cert_serial()
{
	openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/.*=//'
}

cert_subject()
{
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null |
	    sed 's/^subject=//'
}

# cert_verifies CERT [UNTRUSTED]: chains to the scepd CA.
cert_verifies()
{
	if [ -n "${2:-}" ]; then
		openssl verify -CAfile "$CA_CERT" -untrusted "$2" "$1"
	else
		openssl verify -CAfile "$CA_CERT" "$1"
	fi
}

# pubkey_matches CERT KEY: the certificate carries KEY's public key.
pubkey_matches()
{
	local a b
	a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
	b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
	[ -n "$a" ] && [ "$a" = "$b" ]
}

# split_certs FILE OUTPREFIX: every PEM certificate of FILE into
# OUTPREFIX.N.pem (N from 0); prints how many.
split_certs()
{
	awk -v p="$2" '
	    BEGIN { n = 0 }
	    /-----BEGIN CERTIFICATE-----/ { f = p "." n ".pem"; n++; on = 1 }
	    on { print > f }
	    /-----END CERTIFICATE-----/ { on = 0; close(f) }
	    END { print n + 0 }' "$1"
}

# fetch_cacerts DIR [URL]: GetCACert into DIR/getcacert.der and
# DIR/cacerts.pem (all certificates), DIR/ca.pem (the one whose
# fingerprint is CA_FPR) and DIR/ra.pem (the first other certificate, or
# the CA itself when the CA answers directly).  Prints the content type.
fetch_cacerts()
{
	local dir="$1" url="${2:-$SCEP_URL}" res ctype n i f
	mkdir -p "$dir"
	res=$(http_get "$url?operation=GetCACert&message=default" \
	    "$dir/getcacert.der") || return 1
	ctype=${res#* }
	case "$ctype" in
	application/x-x509-ca-cert)
		openssl x509 -inform DER -in "$dir/getcacert.der" \
		    -out "$dir/cacerts.pem" || return 1 ;;
	application/x-x509-ca-ra-cert)
		openssl pkcs7 -inform DER -in "$dir/getcacert.der" \
		    -print_certs -out "$dir/cacerts.pem" || return 1 ;;
	*)
		echo "unexpected GetCACert answer: $res" >&2
		return 1 ;;
	esac
	n=$(split_certs "$dir/cacerts.pem" "$dir/cacert")
	rm -f "$dir/ca.pem" "$dir/ra.pem"
	for i in $(seq 0 $((n - 1))); do
		f="$dir/cacert.$i.pem"
		if [ "$(cert_fpr "$f")" = "$CA_FPR" ]; then
			[ -f "$dir/ca.pem" ] || cp "$f" "$dir/ca.pem"
		elif [ ! -f "$dir/ra.pem" ]; then
			cp "$f" "$dir/ra.pem"
		fi
	done
	[ -f "$dir/ca.pem" ] || return 1
	[ -f "$dir/ra.pem" ] || cp "$dir/ca.pem" "$dir/ra.pem"
	echo "$ctype"
}

# make_client DIR CN [CHALLENGE]: an RSA key, a PKCS#10 request (with a
# challengePassword when given) and a self-signed v1 signer certificate
# like certmonger's "minicert" (spec 17.6), in DIR/{key,csr,self}.pem.
make_client()
{
	local dir="$1" cn="$2" chal="${3:-}"
	mkdir -p "$dir"
	{
		printf '[req]\nprompt = no\ndistinguished_name = dn\n'
		[ -n "$chal" ] && printf 'attributes = attrs\n'
		printf '[dn]\nCN = %s\nO = scepd interop\n' "$cn"
		[ -n "$chal" ] && printf '[attrs]\nchallengePassword = %s\n' \
		    "$chal"
	} >"$dir/req.cnf"
	[ -f "$dir/key.pem" ] ||
	    openssl genrsa -out "$dir/key.pem" 2048 2>/dev/null || return 1
	openssl req -new -key "$dir/key.pem" -config "$dir/req.cnf" \
	    -out "$dir/csr.pem" || return 1
	openssl x509 -req -in "$dir/csr.pem" -signkey "$dir/key.pem" \
	    -days 2 -out "$dir/self.pem" 2>/dev/null
}

# scep_enroll_post DIR URL RECIPIENT [scepmsg req options...]: build a
# PKCSReq signed by DIR/self.pem (or -s/-k given in the options), POST it,
# and parse the reply into DIR/rep.txt; DIR/cert.pem on SUCCESS.  Returns
# scepmsg rep's status; prints the HTTP status and content type.
scep_enroll_post()
{
	local dir="$1" url="$2" recip="$3" res
	shift 3
	"$SCEPMSG" req -t pkcsreq -c "$dir/csr.pem" -s "$dir/self.pem" \
	    -k "$dir/key.pem" -r "$recip" -o "$dir/msg.der" "$@" \
	    >"$dir/req.txt" || return 1
	res=$(http_post "$url?operation=PKIOperation" "$dir/msg.der" \
	    "$dir/rep.der") || return 1
	echo "$res"
	scep_read_reply "$dir"
}

# scep_read_reply DIR: parse DIR/rep.der against DIR/req.txt.
scep_read_reply()
{
	local dir="$1" txid nonce
	txid=$(sed -n 's/^transactionID=//p' "$dir/req.txt")
	nonce=$(sed -n 's/^senderNonce=//p' "$dir/req.txt")
	rm -f "$dir/cert.pem"
	"$SCEPMSG" rep -i "$dir/rep.der" -s "$dir/self.pem" \
	    -k "$dir/key.pem" -C "$CA_CERT" -x "$txid" -N "$nonce" \
	    -o "$dir/cert.pem" -E "$dir/env.der" >"$dir/rep.txt" \
	    2>"$dir/rep.err"
}

# reply_field DIR NAME: one key=value of DIR/rep.txt.
reply_field()
{
	sed -n "s/^$2=//p" "$1/rep.txt" | head -n 1
}

# cms_cipher FILE [DER|PEM]: the contentEncryptionAlgorithm short name of
# an EnvelopedData.
cms_cipher()
{
	openssl cms -cmsout -print -inform "${2:-DER}" -in "$1" 2>/dev/null |
	    awk '/contentEncryptionAlgorithm:/ { getline; sub(/.*algorithm: /, "");
	        sub(/ .*/, ""); print; exit }'
}
