#!/bin/bash
# test_secrets.sh -- secrets hygiene and the key-isolation settings of
# scepd.conf (issue 8), against a running scepd.
#
#   1. scepd.conf's key_isolation, keyprocs and user take effect:
#      keyprocs = 3 gives exactly 3 key processes, key_isolation = off
#      none, SCEPD_KEYPROCS overrides the file and --keyprocs both;
#      out-of-range or malformed values stop scepd with the line named.
#   2. A full run at log_level = debug -- an enrollment, an enrollment
#      with a wrong challenge, a console login and a failed one, an
#      administrator password change, API token creation, a new account
#      challenge and a one-time challenge -- then every secret value used
#      (challenges, passwords, tokens, the session cookie and CSRF token,
#      lines of the CA/RA private keys, secret.key) is searched for in
#      scepd's log, the audit export (CSV and JSON), every HTTP answer and
#      every scepctl message; and the challenges, passwords and tokens in
#      the store's files (they are kept as hashes only).
#   3. Core dumps: every key process has RLIMIT_CORE 0 and its secure heap
#      (where the private numbers live) is MADV_DONTDUMP ("dd" in smaps).
#   4. Every file scepd created in the data directory is 0600 (or a 0700
#      directory), a new RA key created at run time too.
#
# Environment from meson: SCEPD, SCEPCTL, SCEPMSG, INTEROP_DIR.

. "${INTEROP_DIR:?}/lib.sh"

interop_init
need curl openssl sqlite3 python3

DATA="$WORK/data"
PORT=$(free_port) || bail "no free port"
BASE_URL="http://127.0.0.1:$PORT"
SCEPD_LOG="$WORK/scepd.log"
OUT="$WORK/answers"	# every HTTP answer and scepctl message
mkdir -p "$OUT"

init_scepd "$DATA"
[ -n "$ADMIN_TOKEN" ] || bail "no token"
ADMIN_USER=$(json_get "$WORK/init.json" admin_user) || bail "no admin_user"
ADMIN_PW=$(json_get "$WORK/init.json" admin_password) || bail "no password"
cp "$DATA/scepd.conf" "$WORK/scepd.conf.orig"

# serve [ARGS]: start scepd on the port; 0 once /healthz answers.
serve()
{
	"$SCEPD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" "$@" \
	    >>"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	wait_healthz "$BASE_URL/healthz" 20 "$SCEPD_PID"
}

# keyprocs COMM: the processes named COMM below scepd (its descendants).
keyprocs()
{
	python3 - "$SCEPD_PID" "$1" <<'EOF'
import os, sys
root, comm = sys.argv[1], sys.argv[2]
parent = {}
name = {}
for p in os.listdir('/proc'):
    if not p.isdigit():
        continue
    try:
        with open('/proc/%s/stat' % p) as f:
            s = f.read()
    except OSError:
        continue
    name[p] = s[s.index('(') + 1:s.rindex(')')]
    parent[p] = s[s.rindex(')') + 2:].split()[1]
def below(p):
    while p in parent and p != '1':
        p = parent[p]
        if p == root:
            return True
    return False
print(' '.join(sorted(p for p in name if name[p] == comm and below(p))))
EOF
}

count_keyprocs()
{
	local n=0 i
	# The pool is started before /healthz answers; allow a moment.
	for i in $(seq 20); do
		n=$(keyprocs scepd-keyproc | wc -w)
		[ "$n" -ge "${1:-1}" ] && break
		sleep 0.1
	done
	echo "$n"
}

# --- 1. the key-isolation settings of scepd.conf --------------------------

set_conf()
{
	cp "$WORK/scepd.conf.orig" "$DATA/scepd.conf"
	printf '%s\n' "$@" >>"$DATA/scepd.conf"
}

set_conf "keyprocs = 3" "key_isolation = on"
serve || bail "scepd did not start with keyprocs = 3"
tap_is "$(count_keyprocs 3)" 3 "scepd.conf keyprocs = 3: 3 key processes"
tap_is "$(keyprocs scepd-keymaster | wc -w)" 1 \
    "... and their master, one"
stop_scepd

SCEPD_KEYPROCS=2 serve || bail "scepd did not start with SCEPD_KEYPROCS=2"
tap_is "$(count_keyprocs 2)" 2 "SCEPD_KEYPROCS=2 overrides the file's 3"
stop_scepd
SCEPD_KEYPROCS=2 serve --keyprocs 1 || bail "scepd did not start"
tap_is "$(count_keyprocs 1)" 1 "--keyprocs 1 overrides both"
stop_scepd

set_conf "key_isolation = off"
serve || bail "scepd did not start with key_isolation = off"
sleep 0.5
tap_is "$(keyprocs scepd-keyproc | wc -w)" 0 \
    "scepd.conf key_isolation = off: no key process"
tap_like "$(cat "$SCEPD_LOG")" "key isolation is off" \
    "... and scepd says so in its log"
stop_scepd

for bad in "keyprocs = 65" "keyprocs = -1" "keyprocs = 3x" \
    "key_isolation = maybe" "user = ../etc" "user = -x" \
    "user = $(printf 'u%.0s' $(seq 64))"; do
	set_conf "$bad"
	"$SCEPD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
	    >"$WORK/bad.log" 2>&1
	st=$?
	tap_is "$st" 2 "scepd.conf \"${bad:0:24}\": refused (exit 2)"
	tap_like "$(cat "$WORK/bad.log")" "bad value.*line=[0-9]+ key=" \
	    "... naming the line and the key"
done
set_conf "user = no-such-user-$$"
"$SCEPD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
    >"$WORK/bad.log" 2>&1
tap_is "$?" 2 "scepd.conf user = an unknown user: refused (exit 2)"
tap_like "$(cat "$WORK/bad.log")" "no such user" "... saying so"

# --- 2. a full run, then search everything for the secrets ----------------

set_conf "log_level = debug" "keyprocs = 2"
serve || bail "scepd did not start for the full run"

fetch_cacerts "$WORK/ref" >/dev/null || bail "GetCACert failed"
WRONG="wrong-guess-$$-$RANDOM$RANDOM"
make_client "$WORK/good" "secrets good" "$CHALLENGE" || bail "client"
make_client "$WORK/bad" "secrets bad" "$WRONG" || bail "client"
scep_enroll_post "$WORK/good" "$SCEP_URL" "$WORK/ref/ra.pem" >/dev/null
tap_is "$(reply_field "$WORK/good" pkiStatus)" 0 \
    "enrollment with the right challenge: SUCCESS"
scep_enroll_post "$WORK/bad" "$SCEP_URL" "$WORK/ref/ra.pem" >/dev/null
tap_is "$(reply_field "$WORK/bad" pkiStatus)" 2 \
    "enrollment with a wrong challenge: FAILURE"
cp "$WORK/good/rep.txt" "$OUT/rep-good.txt"
cp "$WORK/bad/rep.txt" "$OUT/rep-bad.txt"
cp "$WORK/bad/rep.der" "$OUT/rep-bad.der"

# api METHOD PATH BODY NAME [curl options]: the answer, headers included.
api()
{
	local m="$1" p="$2" b="$3" n="$4"
	shift 4
	curl -s -m 30 -D "$OUT/$n.hdr" -o "$OUT/$n.body" -X "$m" \
	    -H 'Content-Type: application/json' ${b:+--data-binary "$b"} \
	    "$@" "$BASE_URL$p"
}

WRONG_PW="not-the-password-$$-$RANDOM"
api POST /api/v1/login \
    "{\"name\":\"$ADMIN_USER\",\"password\":\"$WRONG_PW\"}" login-bad
tap_like "$(head -n 1 "$OUT/login-bad.hdr")" " 40[13] " \
    "console login with a wrong password: refused"
api POST /api/v1/login \
    "{\"name\":\"$ADMIN_USER\",\"password\":\"$ADMIN_PW\"}" login-good
tap_like "$(head -n 1 "$OUT/login-good.hdr")" " 200 " "console login: 200"
SESSION=$(sed -n 's/^[Ss]et-[Cc]ookie: *[^=]*=\([^;]*\).*/\1/p' \
    "$OUT/login-good.hdr" | head -n 1 | tr -d '\r')
CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' \
    "$OUT/login-good.body" 2>/dev/null)
tap_check "the login set a session cookie and gave a CSRF token" \
    "$([ -n "$SESSION" ] && [ -n "$CSRF" ]; echo $?)"

NEW_PW="N3w-Passw0rd-$$-$RANDOM$RANDOM"
"$SCEPCTL" admin password me --password "$NEW_PW" >"$OUT/pw.out" \
    2>"$OUT/pw.err"
tap_check "scepctl admin password me: changed" $?
api POST /api/v1/login \
    "{\"name\":\"$ADMIN_USER\",\"password\":\"$NEW_PW\"}" login-new
tap_like "$(head -n 1 "$OUT/login-new.hdr")" " 200 " \
    "console login with the new password: 200"
api POST /api/v1/login \
    "{\"name\":\"$ADMIN_USER\",\"password\":\"$ADMIN_PW\"}" login-old
tap_unlike "$(head -n 1 "$OUT/login-old.hdr")" " 200 " \
    "the old password no longer works"

"$SCEPCTL" --json token create --name "secrets test" >"$OUT/token.json" \
    2>"$OUT/token.err"
tap_check "scepctl token create" $?
NEW_TOKEN=$(python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
print(j.get("token") or j.get("secret") or "")' "$OUT/token.json")
tap_check "... printed the new token once" "$([ -n "$NEW_TOKEN" ]; echo $?)"
SCEPD_TOKEN="$NEW_TOKEN" "$SCEPCTL" admin whoami >"$OUT/whoami.out" \
    2>"$OUT/whoami.err"
tap_check "the new token works" $?
SCEPD_TOKEN="scepd_${WRONG}" "$SCEPCTL" admin whoami >"$OUT/whoami-bad.out" \
    2>"$OUT/whoami-bad.err"
tap_isnt "$?" 0 "a wrong token is refused"

ACCT=$("$SCEPCTL" --json account list | python3 -c 'import json,sys
j = json.load(sys.stdin)
items = j["items"] if isinstance(j, dict) else j
print(items[0]["id"])')
"$SCEPCTL" --json account challenge "$ACCT" >"$OUT/chal.json" \
    2>"$OUT/chal.err"
tap_check "scepctl account challenge: a new challenge" $?
NEW_CHAL=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1])).get("challenge", ""))' "$OUT/chal.json")
"$SCEPCTL" --json account otc "$ACCT" >"$OUT/otc.json" 2>"$OUT/otc.err"
tap_check "scepctl account otc: a one-time challenge" $?
OTC=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1])).get("challenge", ""))' "$OUT/otc.json")
tap_check "... both printed" "$([ -n "$NEW_CHAL" ] && [ -n "$OTC" ]; echo $?)"

# A new RA key at run time (its file mode is checked in part 4).
"$SCEPCTL" --json ra create --ca 1 --subject "CN=secrets test RA" >"$OUT/ra.json" 2>"$OUT/ra.err"
tap_check "scepctl ra create: a new RA key pair" $? ||
    diag_file "$OUT/ra.err" "scepctl ra create stderr"

"$SCEPCTL" audit export --format csv --out "$WORK/audit.csv" \
    2>"$OUT/export.err"
tap_check "scepctl audit export (CSV)" $?
"$SCEPCTL" audit export --format json --out "$WORK/audit.json" \
    2>>"$OUT/export.err"
tap_check "scepctl audit export (JSON)" $?
tap_check "the audit trail recorded the run (password, token, enrollments)" \
    "$(grep -q 'token' "$WORK/audit.csv" && grep -qi 'password' \
    "$WORK/audit.csv" && grep -q FAILURE "$WORK/audit.csv"; echo $?)"

# The key material: a 48-character piece of every body line of every
# private key file, and secret.key (raw, hex and base64).
: >"$WORK/keypieces"
for k in "$DATA"/keys/*; do
	[ -f "$k" ] || continue
	grep -v -- '-----' "$k" | awk 'length($0) >= 48 {
	    print substr($0, 1, 48) }' >>"$WORK/keypieces"
done
tap_check "key files found to look for ($(wc -l <"$WORK/keypieces") pieces)" \
    "$([ -s "$WORK/keypieces" ]; echo $?)"
SECRET_HEX=$(od -An -tx1 -v "$DATA/secret.key" | tr -d ' \n')
SECRET_B64=$(base64 -w0 <"$DATA/secret.key")

# Everything secret, one per line with its name.
{
	echo "challenge	$CHALLENGE"
	echo "wrong challenge	$WRONG"
	echo "new challenge	$NEW_CHAL"
	echo "one-time challenge	$OTC"
	echo "init password	$ADMIN_PW"
	echo "wrong password	$WRONG_PW"
	echo "new password	$NEW_PW"
	echo "init token	$ADMIN_TOKEN"
	echo "new token	$NEW_TOKEN"
	echo "session cookie	$SESSION"
	echo "CSRF token	$CSRF"
	echo "secret.key hex	${SECRET_HEX:0:32}"
	echo "secret.key base64	${SECRET_B64:0:24}"
	awk '{ print "private key piece " NR "\t" $0 }' "$WORK/keypieces"
} >"$WORK/secrets.tsv"
finish_scepd

# Where secrets must not be: the log, the audit export, every answer and
# message (minus the ones that hand a secret out on purpose, once: the
# login's cookie and CSRF token, token create, challenge, otc, init).
rm -f "$OUT/login-good.hdr" "$OUT/login-good.body" "$OUT/login-new.hdr" \
    "$OUT/login-new.body" "$OUT/token.json" "$OUT/chal.json" "$OUT/otc.json"
# scepctl's own --password argument is not echoed back either.
find_secret()
{
	local what="$1" where="$2" hits=""
	while IFS='	' read -r name value; do
		[ -n "$value" ] || continue
		if grep -rqaF -- "$value" $where 2>/dev/null; then
			hits="$hits $name;"
		fi
	done <"$WORK/secrets.tsv"
	tap_is "${hits:-none}" none "no secret in $what"
}
n=$(wc -l <"$WORK/secrets.tsv")
diag "looking for $n secret values"
tap_check "scepd's log is not empty ($(wc -l <"$SCEPD_LOG") lines)" \
    "$([ -s "$SCEPD_LOG" ]; echo $?)"
find_secret "scepd's log (debug level)" "$SCEPD_LOG"
find_secret "the audit export (CSV and JSON)" "$WORK/audit.csv $WORK/audit.json"
find_secret "HTTP answers, SCEP replies and scepctl messages" "$OUT"
# The store: challenges, passwords and tokens are kept as hashes only.
grep -v -e '^private key' -e '^secret.key' \
    "$WORK/secrets.tsv" >"$WORK/secrets-store.tsv"
mv "$WORK/secrets.tsv" "$WORK/secrets-all.tsv"
mv "$WORK/secrets-store.tsv" "$WORK/secrets.tsv"
find_secret "the store's files (scepd.db, -wal)" "$DATA/scepd.db*"
mv "$WORK/secrets-all.tsv" "$WORK/secrets.tsv"
# The CSR is stored without its challengePassword (scep_csr_redact), so
# the account's reusable challenge is nowhere in the requests table.
inreq=$(sqlite3 "$DATA/scepd.db" "SELECT count(*) FROM requests WHERE
    instr(csr_der, CAST('$CHALLENGE' AS BLOB)) > 0")
nreq=$(sqlite3 "$DATA/scepd.db" "SELECT count(*) FROM requests WHERE
    length(csr_der) > 0")
TAP_N=$((TAP_N + 1))
if [ "$inreq" = 0 ] && [ "${nreq:-0}" -gt 0 ]; then
	echo "ok $TAP_N - the enrollment challenge is not in the $nreq stored CSRs"
else
	echo "not ok $TAP_N - the enrollment challenge is in $inreq of" \
	    "${nreq:-0} stored CSRs"
fi

# --- 3. core dumps ----------------------------------------------------------

serve || bail "scepd did not restart"
count_keyprocs 2 >/dev/null
pids="$(keyprocs scepd-keyproc) $(keyprocs scepd-keymaster)"
nocore=0
dd=0
np=0
for p in $pids; do
	np=$((np + 1))
	awk '/^Max core file size/ { exit !($5 == 0 && $6 == 0) }' \
	    "/proc/$p/limits" && nocore=$((nocore + 1))
done
for p in $(keyprocs scepd-keyproc); do
	grep -q '^VmFlags:.* dd' "/proc/$p/smaps" && dd=$((dd + 1))
done
tap_check "key processes found ($np)" "$([ "$np" -ge 3 ]; echo $?)"
tap_is "$nocore" "$np" "every key process has RLIMIT_CORE 0 (no core file)"
tap_is "$dd" "$(keyprocs scepd-keyproc | wc -w)" \
    "every key worker's secure heap is excluded from dumps (MADV_DONTDUMP)"
finish_scepd

# --- 3b. scepd's own process: no core file, not dumpable ----------------------
#
# The HTTP process holds challenges in flight, passwords during a login, the
# decrypted Azure secrets and tokens: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0
# unless core_dumps = on.  "Not dumpable" is seen from outside the way the
# kernel shows it (proc(5)): the files in /proc/PID are then owned by root, and another
# process of scepd's own user may not read /proc/PID/environ (or attach).
# So scepd runs as an unprivileged user here: nobody when the test is root
# (setpriv), else the test's own user.
if [ "$(id -u)" = 0 ]; then
	RUNAS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --"
	chmod 0711 "$WORK"
else
	RUNAS=""
fi
UD="$WORK/unpriv"
mkdir "$UD" && chmod 0700 "$UD" || bail "cannot make $UD"
[ -n "$RUNAS" ] && chown nobody "$UD"
RUID=$($RUNAS id -u)
$RUNAS "$SCEPD" init --data-dir "$UD/data" --json --url "$BASE_URL" \
    >"$UD/init.json" 2>"$UD/init.err" || bail "scepd init as uid $RUID failed"
UD_SCEP_URL=$(json_get "$UD/init.json" scep_url) || bail "no scep_url"
# What scepd inherits: the core limit raised as high as it goes.
CORE_INHERIT=$(ulimit -c unlimited 2>/dev/null
    awk '/^Max core file size/ { print $5, $6 }' /proc/self/limits)

# serve_unpriv [ARGS]: scepd as uid $RUID, inheriting RLIMIT_CORE
# $CORE_INHERIT (AddressSanitizer would set the soft limit to 0 itself
# unless told not to).
serve_unpriv()
{
	(ulimit -c unlimited 2>/dev/null
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0"
	export ASAN_OPTIONS
	exec $RUNAS "$SCEPD" serve \
	    --data-dir "$UD/data" --listen "127.0.0.1:$PORT" "$@") \
	    >>"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	wait_healthz "$BASE_URL/healthz" 20 "$SCEPD_PID"
}
# core_limit PID: "soft hard" of "Max core file size".
core_limit()
{
	awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

serve_unpriv || bail "scepd as uid $RUID did not start"
tap_is "$(awk '/^Name:/ { n = $2 } /^Uid:/ { u = $2 } END { print n, u }' \
    "/proc/$SCEPD_PID/status")" "scepd $RUID" \
    "the pid waited for is scepd itself, as uid $RUID"
tap_is "$(core_limit "$SCEPD_PID")" "0 0" \
    "scepd serve has RLIMIT_CORE 0, soft and hard (inherited: $CORE_INHERIT)"
tap_is "$(stat -c %u "/proc/$SCEPD_PID/environ")" 0 \
    "scepd serve is not dumpable: /proc/PID/environ owned by root, not uid $RUID"
$RUNAS cat "/proc/$SCEPD_PID/environ" >/dev/null 2>&1
tap_isnt "$?" 0 \
    "another process of uid $RUID cannot read scepd's /proc/PID/environ"
tap_like "$(curl -s -m 5 "$UD_SCEP_URL?operation=GetCACaps")" \
    "POSTPKIOperation" "scepd still answers (GetCACaps)"
finish_scepd

# The opt-out, for debugging: the environment, then scepd.conf.
SCEPD_CORE_DUMPS=on serve_unpriv || bail "scepd (core dumps on) did not start"
tap_is "$(core_limit "$SCEPD_PID")" "$CORE_INHERIT" \
    "SCEPD_CORE_DUMPS=on: RLIMIT_CORE left as inherited ($CORE_INHERIT)"
tap_is "$(stat -c %u "/proc/$SCEPD_PID/environ")" "$RUID" \
    "SCEPD_CORE_DUMPS=on: dumpable (/proc/PID/environ owned by uid $RUID)"
$RUNAS cat "/proc/$SCEPD_PID/environ" >/dev/null 2>&1
tap_is "$?" 0 "SCEPD_CORE_DUMPS=on: uid $RUID may read /proc/PID/environ"
tap_like "$(cat "$SCEPD_LOG")" "core dumps are allowed" \
    "... and scepd warns about it in its log"
finish_scepd
echo "core_dumps = yes" >>"$UD/data/scepd.conf"
serve_unpriv || bail "scepd (core_dumps = yes) did not start"
tap_is "$(stat -c %u "/proc/$SCEPD_PID/environ")" "$RUID" \
    "scepd.conf core_dumps = yes: dumpable"
finish_scepd
serve_unpriv --core-dumps off || bail "scepd (--core-dumps off) did not start"
tap_is "$(stat -c %u "/proc/$SCEPD_PID/environ"):$(core_limit "$SCEPD_PID")" "0:0 0" \
    "--core-dumps off overrides scepd.conf: not dumpable, RLIMIT_CORE 0"
finish_scepd
echo "core_dumps = maybe" >>"$UD/data/scepd.conf"
$RUNAS "$SCEPD" serve --data-dir "$UD/data" --listen "127.0.0.1:$PORT" \
    >"$WORK/bad.log" 2>&1
tap_is "$?" 2 "scepd.conf core_dumps = maybe: refused (exit 2)"

# --- 4. file modes ------------------------------------------------------------

# Public by design: the CA and RA certificates init writes next to the
# data, and scepd.conf (no secret belongs in it: scepd.conf(5)).
bad=$(find "$DATA" \( -type f -perm /077 ! -name ca.pem ! -name ra.pem \
    ! -name scepd.conf \) -o \( -type d -perm /077 \) |
    sed "s|^$DATA|DATA_DIR|")
tap_is "${bad:-none}" none \
    "every file scepd created is 0600, every directory 0700 (certificates and scepd.conf aside)"
tap_is "$(find "$DATA/keys" "$DATA/secret.key" "$DATA"/scepd.db* \
    -type f ! -perm 0600 | wc -l)" 0 \
    "keys, secret.key and the database files are exactly 0600"
nkeys=$(find "$DATA/keys" -type f | wc -l)
tap_check "the run-time RA key is among them ($nkeys key files)" \
    "$([ "$nkeys" -ge 3 ]; echo $?)"
