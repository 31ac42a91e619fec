#!/usr/bin/env bash
# The fast loop: ruff, the import contract, mypy and every test that needs no service, on both cores.
# PostgreSQL, Redis and browser tests are left out by marker (tests/conftest.py marks them); `make test` runs all.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/lint-imports"
"$venv/bin/mypy"

set +e
"$venv/bin/pytest" -q -p no:cacheprovider -n 2 -m "not postgres and not redis and not browser" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
  exit 1
fi
exit "$status"
