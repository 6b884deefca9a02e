#!/bin/sh
# with-cluster.sh CMD [ARGS...] -- run CMD against a throwaway PostgreSQL
# cluster (tools/pg-cluster.sh: its own temporary directory, 127.0.0.1, a
# free port), then stop and remove the cluster, whatever CMD did.
#
# CMD sees:
#   STORE_TEST_DSN   a fresh, empty database for it (postgresql://...)
#   PG_DSN           the cluster's default database
#   PGCLUSTER        the cluster directory (for pg-cluster.sh kill/start)
#   PG_CLUSTER_TOOL  the path of tools/pg-cluster.sh
#
# The exit status is CMD's.  A cluster that cannot be started is a
# failure ("Bail out!"), not a skip: the PostgreSQL tests prove nothing
# when they do not run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tool=$here/../../tools/pg-cluster.sh
PGCLUSTER=""

cleanup() {
	if [ -n "$PGCLUSTER" ]; then
		"$tool" destroy "$PGCLUSTER" > /dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! out=$("$tool" start 2>&1); then
	printf 'Bail out! cannot start a PostgreSQL cluster: %s\n' \
	    "$(printf '%s' "$out" | tail -1)"
	exit 1
fi
eval "$(printf '%s\n' "$out" | grep -E '^(PGCLUSTER|PGPORT|PG_DSN)=')"
if [ -z "$PGCLUSTER" ]; then
	echo "Bail out! pg-cluster.sh printed no cluster"
	exit 1
fi
if ! STORE_TEST_DSN=$("$tool" createdb "$PGCLUSTER" storetest 2>&1); then
	printf 'Bail out! createdb failed: %s\n' "$STORE_TEST_DSN"
	exit 1
fi
export STORE_TEST_DSN PG_DSN PGCLUSTER PGPORT
PG_CLUSTER_TOOL=$tool
export PG_CLUSTER_TOOL

"$@"
status=$?
exit $status
