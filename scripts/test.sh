#!/usr/bin/env bash
# Runs the whole suite against real services: PostgreSQL (started here), Redis and Chromium
# (installed here; tests start their own processes). Fails on any failure and on "no tests ran".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

eval "$(scripts/services.sh start)"
export OVERHEARD_TEST_POSTGRES_URL OVERHEARD_REQUIRE_POSTGRES=1
trap 'scripts/services.sh stop || true' EXIT

static_checks
mkdir -p test-artifacts
run_pytest --junitxml=test-artifacts/junit.xml "$@"
