#!/bin/bash
# test_hostile.sh -- the bad-input suite of issue 8, beyond
# tests/interop/test_badinput.sh (garbage, truncated, empty, oversized):
#
#   SCEP: deeply nested BER (POST and GET), a CSR with 10,000 SANs and one
#     with 65 (one over SCEP_MAX_SANS), absurd subject keys (RSA 512, a
#     65536-bit modulus nobody can sign for, a 16-bit one, P-521), a
#     signer certificate with an RSA-512 key, an exact replay of a
#     PKCSReq and a replayed senderNonce under a new transactionID;
#   admin API: invalid UTF-8, a body over API_MAX_BODY, JSON nested
#     20,000 deep, with and without a token;
#   connections: 200 slowloris clients (headers one byte a second) and
#     2,000 idle connections, while a normal client keeps enrolling.
#
# Every hostile request must get 4xx (400, 401, 408, 413 ...) or a SCEP
# FAILURE -- never a certificate, a 5xx or a crash.  The normal client
# must be served within its normal latency during the floods, the server
# must close the hostile connections by its timeout, and scepd's resident
# memory must not grow: the hostile rounds are run once to warm the
# allocator, then again, and the second rounds may add at most
# HARDEN_RSS_SLACK_KB (default 4096).  HARDEN_SLOWLORIS and HARDEN_IDLE
# (default 200 and 2000) set the flood sizes (`make stress` raises them).
#
# Environment from meson: SCEPD, SCEPCTL, SCEPMSG, HOSTILE, FLOOD,
# INTEROP_DIR.

. "${INTEROP_DIR:?}/lib.sh"

interop_init
need curl openssl python3 sqlite3

# A short idle timeout keeps the flood part short (scepd.conf `timeout`).
TIMEOUT=${HARDEN_HTTP_TIMEOUT:-5}
SLACK=${HARDEN_RSS_SLACK_KB:-4096}
export SCEPD_TIMEOUT="$TIMEOUT"
start_scepd
W="$WORK"
OP="$SCEP_URL?operation=PKIOperation"
HOST=127.0.0.1
PORT=${BASE_URL##*:}
DB=$(dirname "$CA_CERT")/scepd.db

fetch_cacerts "$W/ref" >/dev/null || bail "GetCACert failed"
RA="$W/ref/ra.pem"
make_client "$W/good" hostile-good "$CHALLENGE" || bail "no client"

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$SCEPD_PID/status"
}

# Resident memory of the key processes (children of the key master).
kp_rss_kb()
{
	local p t=0 v
	for p in /proc/[0-9]*; do
		grep -q '^Name:.*scepd-keyproc' "$p/status" 2>/dev/null || continue
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" |
		    grep -q -- "--data-dir $(dirname "$CA_CERT") " || continue
		v=$(awk '/^VmRSS:/ { print $2 }' "$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# enroll_good: one normal enrollment (fresh transactionID); prints its
# latency in ms; fails unless it got a certificate.
N_GOOD=0
enroll_good()
{
	local t0 t1 res
	N_GOOD=$((N_GOOD + 1))
	"$SCEPMSG" req -t pkcsreq -c "$W/good/csr.pem" -s "$W/good/self.pem" \
	    -k "$W/good/key.pem" -r "$RA" -x "good-$$-$N_GOOD" \
	    -o "$W/good/msg.der" >"$W/good/req.txt" || return 1
	t0=$(now_ms)
	res=$(http_post "$OP" "$W/good/msg.der" "$W/good/rep.der")
	t1=$(now_ms)
	[ "${res%% *}" = 200 ] || return 1
	scep_read_reply "$W/good" || return 1
	[ "$(reply_field "$W/good" pkiStatus)" = 0 ] || return 1
	echo $((t1 - t0))
}

# outcome DIR: after a POST into DIR/rep.der with HTTP result RES, say
# "http CODE", "scep-failure FAILINFO", "scep-success SERIAL" or
# "scep-STATUS".  DIR needs self.pem/key.pem (the signer) and req.txt.
outcome()
{
	local dir="$1" res="$2" code st
	code=${res%% *}
	if [ "$code" != 200 ]; then
		echo "http $code"
		return
	fi
	if ! scep_read_reply "$dir"; then
		echo "unreadable-200"
		return
	fi
	st=$(reply_field "$dir" pkiStatus)
	case "$st" in
	0) echo "scep-success $(cert_serial "$dir/cert.pem")" ;;
	2) echo "scep-failure $(reply_field "$dir" failInfo)" ;;
	*) echo "scep-$st" ;;
	esac
}

# refused OUTCOME: 4xx or SCEP FAILURE.
refused()
{
	case "$1" in
	"http 4"[0-9][0-9]|scep-failure*) return 0 ;;
	*) return 1 ;;
	esac
}

# post_csr NAME CSR.der [SIGNERDIR]: a PKCSReq for CSR signed by the good
# client (or SIGNERDIR's self.pem/key.pem); prints the outcome.
post_csr()
{
	local name="$1" csr="$2" sdir="${3:-$W/good}" d="$W/case-$1" res
	mkdir -p "$d"
	cp "$sdir/self.pem" "$sdir/key.pem" "$d/"
	"$HOSTILE" req -r "$RA" -k "$d/key.pem" -s "$d/self.pem" -i "$csr" \
	    -x "hostile-$name-$RANDOM$RANDOM" -o "$d/msg.der" >"$d/req.txt" ||
	    { echo "build-failed"; return; }
	res=$(http_post "$OP" "$d/msg.der" "$d/rep.der")
	outcome "$d" "$res"
}

# --- inputs, built once --------------------------------------------------
# Nesting inside the size limits (so the decoder sees it: 240 KB POST,
# 44 KB GET) and past them (400 KB: refused before decoding).
"$HOSTILE" nest 60000 "$W/nest.ber" || bail "nest"
"$HOSTILE" nest 100000 "$W/nest-big.ber" || bail "nest"
"$HOSTILE" nest 11000 "$W/nest-get.ber" || bail "nest"
NEST_GET=$(base64 -w0 <"$W/nest-get.ber" |
    sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
"$HOSTILE" csr -k "$W/good/key.pem" -s 10000 -c "$CHALLENGE" \
    -o "$W/sans10000.der" || bail "csr 10000 SANs"
"$HOSTILE" csr -k "$W/good/key.pem" -s 65 -c "$CHALLENGE" \
    -o "$W/sans65.der" || bail "csr 65 SANs"
openssl genrsa -out "$W/rsa512.pem" 512 2>/dev/null || bail "rsa512"
"$HOSTILE" csr -k "$W/rsa512.pem" -c "$CHALLENGE" -o "$W/rsa512.der" ||
    bail "csr rsa512"
"$HOSTILE" fakersa -b 65536 -k "$W/good/key.pem" -c "$CHALLENGE" \
    -o "$W/rsa65536.der" || bail "fake rsa 65536"
"$HOSTILE" fakersa -b 16 -k "$W/good/key.pem" -c "$CHALLENGE" \
    -o "$W/rsa16.der" || bail "fake rsa 16"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 \
    -out "$W/p521.pem" 2>/dev/null || bail "p521"
"$HOSTILE" csr -k "$W/p521.pem" -c "$CHALLENGE" -o "$W/p521.der" ||
    bail "csr p521"
"$HOSTILE" csr -k "$W/good/key.pem" -c "$CHALLENGE" -o "$W/good.der" ||
    bail "csr good"
# A signer whose own key is RSA-512.
mkdir -p "$W/weak"
cp "$W/rsa512.pem" "$W/weak/key.pem"
openssl req -new -x509 -key "$W/weak/key.pem" -subj "/CN=weak signer" \
    -days 2 -out "$W/weak/self.pem" 2>/dev/null || bail "weak signer"
# JSON: a body over API_MAX_BODY, nesting 20000 deep, invalid UTF-8.
python3 -c 'import sys; sys.stdout.write("{\"name\": \"" + "A" * (1 << 20) + "\"}")' \
    >"$W/huge.json"
python3 -c 'import sys; sys.stdout.write("[" * 20000 + "]" * 20000)' \
    >"$W/deep.json"
printf '{"name": "bad \377\376 utf8 \300\257"}' >"$W/badutf8.json"
printf '{"username": "admin\377", "password": "\300\257"}' \
    >"$W/badutf8-login.json"

# --- one round of hostile SCEP and API requests ---------------------------
# round LABEL: runs every case; the first round records TAP results, the
# later ones (memory) only count surprises into ROUND_BAD.
ROUND_BAD=0
check()
{
	local desc="$1" out="$2"
	if [ "$ROUND" = 1 ]; then
		refused "$out"
		tap_check "$desc: refused ($out)" $?
	elif ! refused "$out"; then
		ROUND_BAD=$((ROUND_BAD + 1))
		diag "round $ROUND: $desc: $out"
	fi
}

api_post()
{
	# api_post PATH FILE [TOKEN]: prints "http CODE".
	local code
	if [ -n "${3:-}" ]; then
		code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' \
		    -H "Authorization: Bearer $3" -H 'Expect:' \
		    -H 'Content-Type: application/json' \
		    --data-binary "@$2" "$BASE_URL$1")
	else
		code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' \
		    -H 'Expect:' -H 'Content-Type: application/json' \
		    --data-binary "@$2" "$BASE_URL$1")
	fi
	echo "http $code"
}

round()
{
	local res
	res=$(http_post "$OP" "$W/nest.ber" "$W/r.out")
	check "POST BER nested 60000 deep (240 KB)" "http ${res%% *}"
	res=$(http_post "$OP" "$W/nest-big.ber" "$W/r.out")
	check "POST BER nested 100000 deep (400 KB)" "http ${res%% *}"
	res=$(http_get "$OP&message=$NEST_GET" "$W/r.out")
	check "GET message= BER nested 11000 deep (44 KB)" "http ${res%% *}"
	check "PKCSReq whose CSR has 10,000 SANs" \
	    "$(post_csr sans10000 "$W/sans10000.der")"
	check "PKCSReq whose CSR has 65 SANs (SCEP_MAX_SANS + 1)" \
	    "$(post_csr sans65 "$W/sans65.der")"
	check "CSR with an RSA-512 key" "$(post_csr rsa512 "$W/rsa512.der")"
	check "CSR with a 65536-bit RSA modulus (no private key)" \
	    "$(post_csr rsa65536 "$W/rsa65536.der")"
	check "CSR with a 16-bit RSA modulus" \
	    "$(post_csr rsa16 "$W/rsa16.der")"
	check "CSR with a P-521 key" "$(post_csr p521 "$W/p521.der")"
	check "signer certificate with an RSA-512 key" \
	    "$(post_csr weak "$W/good.der" "$W/weak")"
	check "admin login, invalid UTF-8, no token" \
	    "$(api_post /api/v1/login "$W/badutf8-login.json")"
	check "admin API, invalid UTF-8 JSON" \
	    "$(api_post /api/v1/organizations "$W/badutf8.json" "$ADMIN_TOKEN")"
	check "admin API, 1 MiB JSON (over API_MAX_BODY)" \
	    "$(api_post /api/v1/organizations "$W/huge.json" "$ADMIN_TOKEN")"
	check "admin API, JSON nested 20,000 deep" \
	    "$(api_post /api/v1/organizations "$W/deep.json" "$ADMIN_TOKEN")"
	check "admin API, 1 MiB JSON without a token" \
	    "$(api_post /api/v1/organizations "$W/huge.json")"
}

# --- baseline --------------------------------------------------------------
lat=""
for i in 1 2 3 4 5 6; do
	l=$(enroll_good) || bail "a normal enrollment failed before the test"
	lat="$lat $l"
done
BASE_MS=$(echo "$lat" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 3p)
diag "normal enrollment latency before the test: $lat ms (median $BASE_MS)"

ROUND=1
round
tap_check "scepd survived the hostile requests" "$(scepd_alive; echo $?)"

# --- replays -------------------------------------------------------------
mkdir -p "$W/replay"
cp "$W/good/self.pem" "$W/good/key.pem" "$W/replay/"
NONCE=$(openssl rand -hex 16)
"$HOSTILE" req -r "$RA" -k "$W/replay/key.pem" -s "$W/replay/self.pem" \
    -i "$W/good.der" -x "replay-$$-1" -N "$NONCE" -o "$W/replay/msg.der" \
    >"$W/replay/req.txt" || bail "replay message"
count_certs()
{
	sqlite3 "$DB" "SELECT count(*) FROM certs"
}
res=$(http_post "$OP" "$W/replay/msg.der" "$W/replay/rep.der")
first=$(outcome "$W/replay" "$res")
tap_like "$first" '^scep-success ' "the original PKCSReq is served ($first)"
n1=$(count_certs)
res=$(http_post "$OP" "$W/replay/msg.der" "$W/replay/rep.der")
again=$(outcome "$W/replay" "$res")
n2=$(count_certs)
# RFC 8894 3.3.1 / spec 10: an exact re-send is idempotent -- the same
# certificate again, never a second one.
tap_check "exact replay of a PKCSReq: no second certificate ($again)" \
    "$({ [ "$again" = "$first" ] || refused "$again"; } && [ "$n2" = "$n1" ]
    echo $?)"
# spec 11: the same senderNonce from the same key under a new
# transactionID is a replay, not a re-send.  The service keeps no nonce
# cache yet: reported as TAP TODO until it does.
"$HOSTILE" req -r "$RA" -k "$W/replay/key.pem" -s "$W/replay/self.pem" \
    -i "$W/good.der" -x "replay-$$-2" -N "$NONCE" -o "$W/replay/msg2.der" \
    >"$W/replay/req.txt" || bail "replay message 2"
res=$(http_post "$OP" "$W/replay/msg2.der" "$W/replay/rep.der")
nonce2=$(outcome "$W/replay" "$res")
TAP_N=$((TAP_N + 1))
if refused "$nonce2"; then
	echo "ok $TAP_N - replayed senderNonce under a new transactionID:" \
	    "refused ($nonce2)"
elif [ "${nonce2%% *}" = scep-success ]; then
	echo "not ok $TAP_N - replayed senderNonce under a new" \
	    "transactionID: refused ($nonce2) # TODO service: no" \
	    "(signer key, senderNonce) replay cache (spec 11)"
else
	echo "not ok $TAP_N - replayed senderNonce: $nonce2"
	TAP_FAILED=$((TAP_FAILED + 1))
fi

# --- memory: the same rounds again must not grow scepd ---------------------
ROUND=2
round
for i in 1 2 3; do enroll_good >/dev/null; done
RSS0=$(rss_kb)
KP0=$(kp_rss_kb)
for ROUND in 3 4 5; do
	round
	for i in 1 2 3; do enroll_good >/dev/null; done
done
RSS1=$(rss_kb)
KP1=$(kp_rss_kb)
diag "scepd RSS after warm-up ${RSS0} kB, after 3 more hostile rounds" \
    "${RSS1} kB; key processes ${KP0} -> ${KP1} kB"
tap_is "$ROUND_BAD" 0 "rounds 2-5: every hostile request refused again"
tap_check "scepd RSS growth over 3 hostile rounds <= ${SLACK} kB" \
    "$([ $((RSS1 - RSS0)) -le "$SLACK" ]; echo $?)"
tap_check "key process RSS growth over 3 hostile rounds <= ${SLACK} kB" \
    "$([ $((KP1 - KP0)) -le "$SLACK" ]; echo $?)"

# --- floods: slowloris and idle connections ----------------------------------
# flood MODE N: runs flood.py for TIMEOUT + 10 s in the background while
# the normal client enrolls; then checks the normal latency and that the
# server closed every hostile connection by its timeout.
flood()
{
	local mode="$1" n="$2" f="$W/flood-$1.json" pid lat="" l worst=0
	local bound i
	python3 "$FLOOD" "$mode" "$HOST" "$PORT" "$n" $((TIMEOUT + 10)) \
	    >"$f" 2>"$W/flood-$mode.err" &
	pid=$!
	sleep 2
	for i in 1 2 3 4 5; do
		if ! l=$(enroll_good); then
			l=99999
		fi
		lat="$lat $l"
		[ "$l" -gt "$worst" ] && worst=$l
		sleep 0.5
	done
	wait "$pid"
	diag "$mode x$n: normal enrollments during the flood: $lat ms;" \
	    "flood: $(cat "$f")"
	# "Normal latency": within 5x the median before, and never over 1 s
	# more than it.
	bound=$((BASE_MS * 5 > BASE_MS + 1000 ? BASE_MS * 5 : BASE_MS + 1000))
	tap_check "$mode x$n: the normal client is served within its normal latency (worst ${worst} ms, bound ${bound} ms)" \
	    "$([ "$worst" -le "$bound" ]; echo $?)"
	python3 - "$f" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = (r["opened"] == int(sys.argv[2]) and
      all(a.split(" ")[1:2] in (["408"], ["400"]) for a in r["answers"]))
sys.exit(0 if ok else 1)
PY
	tap_check "$mode x$n: every connection was accepted; the only answers are 408/400" $?
	python3 - "$f" "$n" "$TIMEOUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, t = int(sys.argv[2]), float(sys.argv[3])
ok = (r["closed_by_server"] == n and r["still_open"] == 0 and
      r["close_max_s"] is not None and r["close_max_s"] <= t + 5)
sys.exit(0 if ok else 1)
PY
	st=$?
	if [ "$mode" = slowloris ] && [ "$st" != 0 ]; then
		# libmicrohttpd 0.9.75's timeout is an idle timeout: one byte
		# a second keeps a connection alive.  The HTTP layer needs a
		# deadline for the whole request head (see SECURITY.md).
		TAP_N=$((TAP_N + 1))
		echo "not ok $TAP_N - $mode x$n: the server closed every" \
		    "connection within ${TIMEOUT} s + 5 # TODO http: no" \
		    "deadline for the request head in MHD 0.9.75"
	else
		tap_check "$mode x$n: the server closed every connection within ${TIMEOUT} s + 5" "$st"
	fi
}
RSS2=$(rss_kb)
flood slowloris "${HARDEN_SLOWLORIS:-200}"
flood idle "${HARDEN_IDLE:-2000}"
sleep 1
RSS3=$(rss_kb)
diag "scepd RSS before the floods ${RSS2} kB, after ${RSS3} kB"
# Per-connection memory is given back.
tap_check "scepd RSS after the floods within ${SLACK} kB of before" \
    "$([ $((RSS3 - RSS2)) -le "$SLACK" ]; echo $?)"

# Still correct afterwards.
l=$(enroll_good)
tap_check "a normal enrollment still succeeds at the end (${l:-failed} ms)" $?
finish_scepd
