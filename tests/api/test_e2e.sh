#!/bin/bash
# test_e2e.sh -- the end-to-end test of issue 3, through scepctl only:
# create an organization, a department, an endpoint and an account; enroll
# with a real SCEP client (micromdm scepclient, which needs an endpoint
# with the legacy switch: it sends DES and SHA-1) using the account's
# challenge; the certificate and the audit record show the account's
# organization and department; disable the account; the next enrollment
# is refused and audited; "scepctl audit verify" passes, then fails after
# a record is altered in the database with the sqlite3 CLI.  Also the
# exit statuses of scepctl (scepctl(1), EXIT STATUS).  TAP output.
#
# Environment: SCEPD, SCEPCTL (tests/api/meson.build).

set -u
N=0
FAILED=0
WORK=$(mktemp -d /tmp/scepd-e2e.XXXXXX)
PID=""

ok()
{
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
		[ -n "${3:-}" ] && printf '%s\n' "$3" | head -20 | sed 's/^/# /'
	fi
}

is()
{
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3" "got '$1', expected '$2'"
	fi
}

finish()
{
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	if [ "$FAILED" -ne 0 ] && [ -f "$WORK/scepd.log" ]; then
		tail -n 30 "$WORK/scepd.log" | sed 's/^/# scepd: /'
	fi
	[ "${API_KEEP:-0}" = 1 ] || rm -rf "$WORK"
	echo "1..$N"
}
trap finish EXIT

for t in scepclient sqlite3 openssl python3 curl; do
	command -v "$t" >/dev/null || { echo "Bail out! $t is missing"; exit 1; }
done
[ -x "${SCEPD:-}" ] && [ -x "${SCEPCTL:-}" ] ||
    { echo "Bail out! SCEPD and SCEPCTL must be set"; exit 1; }

# j FILE EXPR: one value from a JSON file.
j()
{
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, bool) else str(v).lower())' "$1" "$2"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$port"
"$SCEPD" init --data-dir "$WORK/data" --json --url "$URL" >"$WORK/init.json" \
    2>"$WORK/init.err" || { echo "Bail out! scepd init failed"; exit 1; }
# SCEPD_SERVE_ARGS: extra serve arguments (see apilib.py).
# shellcheck disable=SC2086
"$SCEPD" serve --data-dir "$WORK/data" --listen "127.0.0.1:$port" \
    ${SCEPD_SERVE_ARGS:-} >"$WORK/scepd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
	curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
export SCEPD_URL="$URL"
SCEPD_TOKEN=$(j "$WORK/init.json" admin_token)
export SCEPD_TOKEN
DB="$WORK/data/scepd.db"
ctl() { "$SCEPCTL" "$@"; }

# --- the model, through scepctl -----------------------------------------

ctl org create --name "Acme Corp" --json >"$WORK/org.json"
ok $? "scepctl org create"
ORG=$(j "$WORK/org.json" id)
ctl dept create --org "$ORG" --name Engineering --json >"$WORK/dept.json"
ok $? "scepctl dept create"
DEPT=$(j "$WORK/dept.json" id)
ctl endpoint create --name "Acme devices" --ext acme --type device \
    --legacy --delegation customized --target "$ORG" --json \
    >"$WORK/ep.json" 2>"$WORK/err"
ok $? "scepctl endpoint create (legacy, delegated to the organization)" \
    "$(cat "$WORK/err")"
EP=$(j "$WORK/ep.json" id)
is "$(j "$WORK/ep.json" url)" "$URL/scep/acme" "the endpoint URL is derived"
ctl account create --endpoint acme --name laptops --org "$ORG" \
    --dept "$DEPT" --json >"$WORK/acct.json" 2>"$WORK/err"
ok $? "scepctl account create" "$(cat "$WORK/err")"
ACCT=$(j "$WORK/acct.json" id)
CH=$(j "$WORK/acct.json" challenge)
[ ${#CH} -eq 24 ]
ok $? "account create prints the challenge"
out=$(ctl endpoint list)
echo "$out" | grep -q '^ID .*NAME .*EXT' && echo "$out" | grep -q acme
ok $? "scepctl endpoint list prints a table" "$out"

# --- enroll with a real client ----------------------------------------

enroll()
{
	mkdir -p "$WORK/$1"
	(cd "$WORK/$1" && timeout 60 scepclient -server-url "$URL/scep/acme" \
	    -private-key key.pem -certificate cert.pem -challenge "$2" \
	    -cn "$3") >"$WORK/$1/out.txt" 2>&1
}
enroll c1 "$CH" e2e-laptop-1 && [ -s "$WORK/c1/cert.pem" ]
ok $? "scepclient enrolls with the account's challenge" \
    "$(tail -5 "$WORK/c1/out.txt")"
SERIAL=$(openssl x509 -in "$WORK/c1/cert.pem" -noout -serial 2>/dev/null |
    sed 's/serial=//; s/^0*//')
ctl cert list --endpoint acme --json >"$WORK/certs.json"
is "$(j "$WORK/certs.json" count)" 1 "one certificate on the endpoint"
is "$(j "$WORK/certs.json" items.0.serial)" "$SERIAL" \
    "it is the client's certificate"
is "$(j "$WORK/certs.json" items.0.org_id)" "$ORG" \
    "the certificate shows the account's organization"
is "$(j "$WORK/certs.json" items.0.dept_id)" "$DEPT" \
    "the certificate shows the account's department"
is "$(j "$WORK/certs.json" items.0.account_id)" "$ACCT" \
    "the certificate shows the account"
ctl cert show "$SERIAL" | grep -q "^org_id  *$ORG\$"
ok $? "scepctl cert show (human) shows the organization"
ctl audit list --endpoint acme --kind enroll --result SUCCESS --json \
    >"$WORK/aud1.json"
is "$(j "$WORK/aud1.json" count)" 1 "one successful enrollment audited"
is "$(j "$WORK/aud1.json" items.0.serial)" "$SERIAL" \
    "the audit record names the serial"
is "$(j "$WORK/aud1.json" items.0.org_id):$(j "$WORK/aud1.json" items.0.dept_id)" \
    "$ORG:$DEPT" "the audit record shows organization and department"
is "$(j "$WORK/aud1.json" items.0.account_id)" "$ACCT" \
    "the audit record names the account"

# --- disable the account: the next enrollment is refused and audited ------

ctl account disable "$ACCT" >/dev/null
ok $? "scepctl account disable"
is "$(ctl account show "$ACCT" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["enabled"])')" \
    False "the account is disabled"
enroll c2 "$CH" e2e-laptop-2
rc=$?
[ "$rc" -ne 0 ]
ok $? "the next enrollment with its challenge fails"
grep -q 'badRequest' "$WORK/c2/out.txt"
ok $? "the client got FAILURE badRequest" "$(tail -5 "$WORK/c2/out.txt")"
[ ! -s "$WORK/c2/cert.pem" ]
ok $? "no certificate was written"
is "$(ctl cert list --endpoint acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" \
    1 "still one certificate"
ctl audit list --endpoint acme --result FAILURE --json >"$WORK/aud2.json"
[ "$(j "$WORK/aud2.json" count)" -ge 1 ]
ok $? "the refusal is audited"
is "$(j "$WORK/aud2.json" items.-1.account_id)" "$ACCT" \
    "the refusal names the account"
j "$WORK/aud2.json" items.-1.reason | grep -qi 'disabled'
ok $? "the refusal says why (account disabled)" \
    "$(j "$WORK/aud2.json" items.-1.reason)"
is "$(j "$WORK/aud2.json" items.-1.failinfo)" badRequest \
    "the refusal records failInfo badRequest"
ctl audit export --format csv --out "$WORK/audit.csv"
ok $? "scepctl audit export --format csv"
grep -q "account.update" "$WORK/audit.csv" && head -1 "$WORK/audit.csv" |
    grep -q '^id,time,kind,actor,action'
ok $? "the CSV holds the account change"
grep -q "$CH" "$WORK/audit.csv"
[ $? -ne 0 ]
ok $? "the challenge never appears in the audit trail"

# --- the audit chain ------------------------------------------------------

out=$(ctl audit verify)
ok $? "scepctl audit verify passes" "$out"
echo "$out" | grep -q 'OK'
ok $? "it says OK" "$out"
ID=$(j "$WORK/aud1.json" items.0.id)
sqlite3 "$DB" "UPDATE events SET reason = 'nothing to see' WHERE id = $ID"
ok $? "alter audit record $ID with the sqlite3 CLI"
out=$(ctl audit verify)
rc=$?
is "$rc" 4 "scepctl audit verify now fails (exit 4)"
echo "$out" | grep -q "BROKEN at record $ID"
ok $? "it names the altered record" "$out"
ctl --json audit verify >"$WORK/v.json"
is "$(j "$WORK/v.json" ok):$(j "$WORK/v.json" bad_id)" "false:$ID" \
    "--json: ok false, bad_id"

# --- scepctl exit statuses (scepctl(1)) -------------------------------------

ctl account show 999999 >/dev/null 2>&1
is $? 2 "not found: exit 2"
SCEPD_TOKEN=scepd_wrong ctl endpoint list >/dev/null 2>&1
is $? 3 "bad token: exit 3"
ctl org create --name "" >/dev/null 2>&1
is $? 4 "validation error: exit 4"
SCEPD_URL=http://127.0.0.1:1 ctl endpoint list >/dev/null 2>&1
is $? 5 "no server: exit 5"
ctl endpoint frobnicate >/dev/null 2>&1
is $? 1 "unknown verb: exit 1"
ctl endpoint create --bogus >/dev/null 2>&1
is $? 1 "unknown option: exit 1"
ctl account show abc >/dev/null 2>&1
is $? 1 "a non-numeric id: exit 1"
out=$(ctl account create --help)
ok $? "--help on a verb" "$out"
echo "$out" | grep -q -- '--endpoint EP'
ok $? "--help lists the options"
for noun in org dept admin token endpoint account ca ra cert request audit; do
	ctl "$noun" --help >/dev/null 2>&1 || break
done
ok $? "--help on every noun"
err=$(ctl org create --name "" 2>&1 >/dev/null)
echo "$err" | grep -q 'field name'
ok $? "errors name the field" "$err"

[ "$FAILED" -eq 0 ]
