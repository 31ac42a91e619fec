#!/usr/bin/env bash
# Runs the whole suite against real services: PostgreSQL (started here), Redis and Chromium
# (installed here; tests start their own processes). Fails on any failure and on "no tests ran".
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}

eval "$(scripts/services.sh start)"
export OVERHEARD_TEST_POSTGRES_URL OVERHEARD_REQUIRE_POSTGRES=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
trap 'scripts/services.sh stop || true' EXIT

"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/lint-imports"
"$venv/bin/mypy"

mkdir -p test-artifacts
set +e
"$venv/bin/pytest" -q -p no:cacheprovider --junitxml=test-artifacts/junit.xml "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
  exit 1
fi
exit "$status"
