#!/usr/bin/env bash
# The whole suite: Python (pytest-django) and the frontend's unit tests (Vitest).
set -euo pipefail
cd "$(dirname "$0")/.."
exports=$(.venv/bin/python scripts/services.py) || { echo "Test services missing: see above." >&2; exit 1; }
eval "$exports"
export GRIDCASE_DATA_DIR=${GRIDCASE_DATA_DIR:-$(mktemp -d)}
# Local/CI only: Celery refuses to start a worker as root without it. Never set in production.
export C_FORCE_ROOT=1

# The frontend's unit tests (the whole suite only) run beside the Python tests; their output follows them.
vitest=""
if [[ $# -eq 0 ]]; then
  vitest_log=$(mktemp)
  (cd frontend && npm test --silent) >"$vitest_log" 2>&1 &
  vitest=$!
fi
echo "== Python tests"
# Three workers on two cores: a good part of the suite waits (browsers, brokers, servers it starts), not computes.
python_status=0
.venv/bin/python -m pytest -p no:cacheprovider -n ${PYTEST_WORKERS:-3} "$@" || python_status=$?
if [[ -n "$vitest" ]]; then
  frontend_status=0
  wait "$vitest" || frontend_status=$?
  echo "== Frontend unit tests"
  cat "$vitest_log"
  if (( frontend_status )); then echo "frontend unit tests failed" >&2; exit "$frontend_status"; fi
fi
exit "$python_status"
