# Shared by scripts/check.sh and scripts/test.sh (sourced, not run): the static checks and a pytest run that
# treats "no tests ran" (exit 5) as a failure.
venv=${VENV:-.venv}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

static_checks() {
  "$venv/bin/ruff" check .
  "$venv/bin/ruff" format --check .
  "$venv/bin/lint-imports"
  "$venv/bin/mypy"
}

run_pytest() {
  local status
  set +e
  "$venv/bin/pytest" -q -p no:cacheprovider "$@"
  status=$?
  set -e
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: treating that as a failure" >&2
    return 1
  fi
  return "$status"
}
