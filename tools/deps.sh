#!/bin/sh
# deps.sh [build|test|bench] -- install the Debian packages a step needs,
# only when one is missing (a fresh Debian 12 machine has none of them).
set -eu
build="meson ninja-build pkg-config gcc libssl-dev libmicrohttpd-dev
libsqlite3-dev libpq-dev libjansson-dev libcurl4-openssl-dev libsodium-dev
openssl curl python3"
test="$build scep certmonger dbus clang libclang-rt-14-dev sqlite3
postgresql valgrind chromium nodejs npm softhsm2 opensc libengine-pkcs11-openssl
procps"
bench="$test wrk"
case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
*) echo "usage: deps.sh build|test|bench" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	# A nodejs from NodeSource bundles npm (and conflicts with Debian's).
	[ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
