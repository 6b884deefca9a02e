#!/bin/bash
# test_probe.sh -- `scepctl probe URL` (issue 7) as support staff use it:
# against a running scepd (good URL, wrong URI extension, wrong challenge,
# CA fingerprint mismatch, server down), against a small HTTP stand-in for
# broken servers (503 with Retry-After, a wrong GetCACert content type, an
# expired RA certificate),
# and against micromdm's scepserver.  Every case checks the exit status and
# the plain-words explanation.

. "$(dirname "$0")/../interop/lib.sh"

interop_init
need curl openssl python3 scepserver
[ -x "${SCEPCTL:-}" ] || bail "SCEPCTL is not set (run through meson test)"

# probe ARGS...: runs scepctl probe, output in $OUT, exit status in $RC.
probe()
{
	OUT=$("$SCEPCTL" probe "$@" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" >>"$WORK/all.out"
}

start_scepd

# --- scepd, everything right ---------------------------------------------
probe "$SCEP_URL" --challenge "$CHALLENGE" --ca-fingerprint "$CA_FPR"
tap_is "$RC" 0 "good URL, challenge and fingerprint: exit 0" ||
    diag_text "$OUT"
tap_like "$OUT" '^\[ ok \] GetCACaps: .*AES.*' "GetCACaps listed"
tap_like "$OUT" 'RA \(encryption and signing\): .*CN=' \
    "the RA certificate is shown with its role"
tap_like "$OUT" "SHA-256 $CA_FPR" "the CA's SHA-256 fingerprint is printed"
tap_like "$OUT" '^\[ ok \] CA fingerprint matches' "fingerprint compared"
tap_like "$OUT" '^\[ ok \] enrollment: SUCCESS, certificate .*chains to the CA' \
    "the test enrollment succeeds and is verified"
tap_unlike "$OUT" '^\[(FAIL|WARN)\]' "no failure and no warning"

# GET PKIOperation when the caller asks for DES3 and SHA-1 still works.
probe "$SCEP_URL" --challenge "$CHALLENGE" --cipher des3 --digest sha1
tap_is "$RC" 0 "DES3/SHA-1 enrollment: exit 0"
tap_like "$OUT" 'SHA1, DES-EDE3-CBC' "the chosen algorithms are reported"

# --- scepd, wrong things -------------------------------------------------
probe "${SCEP_URL%/*}/no-such-ext"
tap_is "$RC" 5 "wrong URI extension: exit 5"
tap_like "$OUT" '^\[FAIL\] GetCACaps: HTTP 404' "wrong URI extension: HTTP 404"
tap_like "$OUT" 'check the URI extension' "wrong URI extension: explained"

probe "$SCEP_URL" --challenge "wrong-$CHALLENGE"
tap_is "$RC" 5 "wrong challenge: exit 5"
tap_like "$OUT" '^\[FAIL\] enrollment: FAILURE, failInfo badRequest' \
    "wrong challenge: FAILURE badRequest"
tap_like "$OUT" 'challenge password' "wrong challenge: explained"

bad=$(printf '%s' "$CA_FPR" | tr '0-9a-f' '1-9a-f0')
probe "$SCEP_URL" --ca-fingerprint "$bad"
tap_is "$RC" 5 "fingerprint mismatch: exit 5"
tap_like "$OUT" "^\[FAIL\] CA fingerprint mismatch: expected $bad, the server's CA is $CA_FPR" \
    "fingerprint mismatch: both fingerprints shown"

probe "$SCEP_URL" --ca-fingerprint 1234
tap_is "$RC" 1 "a malformed fingerprint is a usage error"

finish_scepd

probe "$SCEP_URL" --challenge "$CHALLENGE"
tap_is "$RC" 5 "server down: exit 5"
tap_like "$OUT" 'connection refused or unreachable' "server down: explained"
tap_unlike "$OUT" 'GetCACert' "server down: no pointless further requests"

# --- a broken server (HTTP stand-in) -------------------------------------
# A CA of our own and an RA certificate that expired in 2021, served as a
# degenerate PKCS#7 under /expired.
X="$WORK/x"
mkdir -p "$X"
touch "$X/index.txt"
echo 01 > "$X/serial"
printf '%s\n' '[ca]' 'default_ca = d' '[d]' "database = $X/index.txt" \
    "new_certs_dir = $X" "serial = $X/serial" 'default_md = sha256' \
    'policy = p' 'x509_extensions = e' '[p]' 'commonName = supplied' \
    '[e]' 'keyUsage = critical, digitalSignature, keyEncipherment' \
    > "$X/ca.cnf"
{ openssl req -x509 -newkey rsa:2048 -nodes -keyout "$X/ca.key" \
    -out "$X/ca.pem" -days 30 -subj "/CN=Probe Test CA" &&
  openssl req -new -newkey rsa:2048 -nodes -keyout "$X/ra.key" \
    -out "$X/ra.csr" -subj "/CN=Expired RA" &&
  openssl ca -batch -config "$X/ca.cnf" -cert "$X/ca.pem" \
    -keyfile "$X/ca.key" -in "$X/ra.csr" -out "$X/ra.pem" \
    -startdate 20200101000000Z -enddate 20210101000000Z &&
  openssl crl2pkcs7 -nocrl -certfile "$X/ra.pem" -certfile "$X/ca.pem" \
    -outform DER -out "$X/bag.der"; } > "$X/log" 2>&1 ||
    { diag_file "$X/log" "openssl"; bail "cannot make the expired RA"; }
port=$(free_port) || bail "no free port"
openssl x509 -in "$CA_CERT" -outform DER -out "$WORK/ca.der" ||
    bail "cannot convert the CA"
python3 - "$port" "$WORK/ca.der" "$X/bag.der" >"$WORK/standin.log" 2>&1 <<'PY' &
import http.server, sys
ca = open(sys.argv[2], "rb").read()
bag = open(sys.argv[3], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/busy"):
            self.send_response(503)
            self.send_header("Retry-After", "42")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"overloaded\n")
        elif "GetCACaps" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"AES\nSHA-256\nPOSTPKIOperation\n")
        elif self.path.startswith("/expired"):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-x509-ca-ra-cert")
            self.end_headers()
            self.wfile.write(bag)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(ca)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
BG_PIDS="$BG_PIDS $!"
for i in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/x?operation=GetCACaps" && break
	sleep 0.1
done
probe "http://127.0.0.1:$port/busy"
tap_is "$RC" 5 "503: exit 5"
tap_like "$OUT" '^\[FAIL\] GetCACaps: HTTP 503' "503 reported"
tap_like "$OUT" 'Retry-After: 42 s' "503: Retry-After shown"
tap_like "$OUT" 'overloaded' "503: explained"
probe "http://127.0.0.1:$port/scep"
tap_is "$RC" 5 "wrong GetCACert content type: exit 5"
tap_like "$OUT" 'GetCACert content type "text/html"' \
    "wrong content type: named and explained"
probe "http://127.0.0.1:$port/expired"
tap_is "$RC" 5 "expired RA certificate: exit 5"
tap_like "$OUT" '^\[FAIL\] RA \(encryption and signing\) certificate CN=Expired RA expired on 2021-01-01' \
    "expired RA certificate: named with its date"
tap_like "$OUT" 'issue and stage a new RA certificate' \
    "expired RA certificate: what to do"

# --- micromdm's scepserver ------------------------------------------------
MM="$WORK/mm"
mkdir -p "$MM"
(cd "$MM" && scepserver ca -init -keySize 2048 -depot depot) \
    >"$MM/init.log" 2>&1 || bail "scepserver ca -init failed"
port=$(free_port) || bail "no free port"
(cd "$MM" && exec scepserver -depot depot -port "$port" -challenge mmch \
    -allowrenew 0) >"$MM/log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
INTEROP_EXTRA_LOGS="$MM/log"
for i in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/scep?operation=GetCACaps" &&
	    break
	sleep 0.1
done
mmfpr=$(cert_fpr "$MM/depot/ca.pem")
probe "http://127.0.0.1:$port/scep" --challenge mmch --ca-fingerprint "$mmfpr"
tap_is "$RC" 0 "scepserver, good challenge: exit 0" || diag_text "$OUT"
tap_like "$OUT" 'the CA acts as RA' "scepserver: a single CA certificate"
tap_like "$OUT" '^\[ ok \] enrollment: SUCCESS' "scepserver: enrollment verified"
tap_like "$OUT" '^\[WARN\] the reply is encrypted with single DES' \
    "scepserver: its single-DES replies are pointed out"
probe "http://127.0.0.1:$port/scep" --challenge wrong
tap_is "$RC" 5 "scepserver, wrong challenge: exit 5"
tap_like "$OUT" '^\[FAIL\] enrollment: FAILURE, failInfo badRequest' \
    "scepserver, wrong challenge: FAILURE badRequest"

# The ASan/UBSan build runs this file too.
tap_unlike "$(cat "$WORK/all.out")" 'Sanitizer|runtime error:' \
    "scepctl probe: no sanitizer report in any run"
