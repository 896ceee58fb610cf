#!/usr/bin/env bash
# The whole suite: Python (pytest-django) and the frontend's unit tests (Vitest).
set -euo pipefail
cd "$(dirname "$0")/.."
exports=$(.venv/bin/python scripts/services.py) || { echo "Test services missing: see above." >&2; exit 1; }
eval "$exports"
export GRIDCASE_DATA_DIR=${GRIDCASE_DATA_DIR:-$(mktemp -d)}
# Local/CI only: Celery refuses to start a worker as root without it. Never set in production.
export C_FORCE_ROOT=1

echo "== Python tests"
# Three workers on two cores: a good part of the suite waits (browsers, brokers, servers it starts), not computes.
.venv/bin/python -m pytest -p no:cacheprovider -n ${PYTEST_WORKERS:-3} "$@"
if [[ $# -eq 0 ]]; then
  echo "== Frontend unit tests"
  (cd frontend && npm test --silent)
fi
