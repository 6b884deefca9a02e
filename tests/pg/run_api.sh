#!/bin/sh
# run_api.sh TEST.py -- run an admin API test (tests/api) with its scepd's
# store on the throwaway PostgreSQL of with-cluster.sh (STORE_TEST_DSN).
set -eu
API_STORE_DSN=$STORE_TEST_DSN exec python3 "$@"
