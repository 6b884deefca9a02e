#!/bin/sh
# run.sh -- the console's browser tests (issue 4): start a fresh scepd,
# run the Playwright journeys against it in Debian's headless chromium,
# print TAP, clean up.  SCEPD is the scepd binary (set by meson);
# CONSOLE_SCRIPT the journey file (default console.test.mjs).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

[ -n "${SCEPD:-}" ] && [ -x "$SCEPD" ] || skip_all "SCEPD is not set to a built scepd"
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip_all "chromium not installed (tools/deps.sh test)"
command -v node >/dev/null 2>&1 || skip_all "node not installed"
command -v npm >/dev/null 2>&1 || skip_all "npm not installed"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-console.XXXXXX")
pid=""
npid=""
# Stop what we started, by pid: the test (playwright closes its chromium
# on SIGTERM), then scepd; then remove the work directory.
cleanup()
{
	for p in $npid $pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A free loopback port: ask the kernel for one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
# The public URL scepd advertises (endpoint URLs, CRL distribution point):
# a name rather than the random port, so the screenshots read well.  The
# tests reach the same paths at $url.
public=https://scep.example.com

"$SCEPD" init --data-dir "$work/data" --json --url "$public" \
    >"$work/init.json" 2>"$work/init.log" || {
	echo "Bail out! scepd init failed: $(cat "$work/init.log")"
	exit 1
}
"$SCEPD" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
    >"$work/scepd.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "$url/"; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "Bail out! scepd did not start"
		sed 's/^/# /' "$work/scepd.log"
		exit 1
	fi
	sleep 0.1
done

# playwright-core, pinned by package-lock.json; never a browser download.
if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && { npm ci --offline --no-audit --no-fund ||
	    npm ci --no-audit --no-fund; }) >"$work/npm.log" 2>&1 || {
		echo "Bail out! npm ci failed in tests/console"
		sed 's/^/# /' "$work/npm.log"
		exit 1
	}
fi

# In the background and waited for, so that a signal (meson's timeout)
# runs the traps at once instead of after the test.
rc=0
CONSOLE_URL=$url CONSOLE_PUBLIC=$public CONSOLE_WORK=$work CONSOLE_INIT=$work/init.json \
CHROMIUM=$chromium PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
SCREENSHOT_DIR=${SCREENSHOT_DIR:-$top/docs/screenshots} \
    node "$here/${CONSOLE_SCRIPT:-console.test.mjs}" &
npid=$!
wait "$npid" || rc=$?
npid=""
if [ "$rc" -ne 0 ]; then
	echo "# scepd log (last 40 lines):"
	tail -n 40 "$work/scepd.log" | sed 's/^/# /'
fi
exit "$rc"
