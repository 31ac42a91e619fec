#!/usr/bin/env bash
# The fast loop: ruff, the import contract, mypy and every test that needs no service, on both cores.
# PostgreSQL, Redis and browser tests, and the journeys that drive the `overheard` command in a subprocess (e2e),
# are left out by marker (tests/conftest.py marks them); `make test` runs all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

static_checks
# The API fuzz sends 10 cases per operation here (OVERHEARD_FUZZ_EXAMPLES; `make test` sends 25), so the loop stays
# under three minutes on two cores as operations are added; set the variable to fuzz deeper.
export OVERHEARD_FUZZ_EXAMPLES="${OVERHEARD_FUZZ_EXAMPLES:-10}"
run_pytest -n 2 -m "not postgres and not redis and not browser and not e2e" "$@"
