#!/usr/bin/env bash
# The fault-injection run (`make faults`): kills a Celery worker mid-send, stops Redis, ends every database
# connection of the app under load, and checks that nothing was lost or duplicated. Uses its own
# redis-server on a free port (needs `redis-server` installed) and the test database on PostgreSQL; the
# shared Redis and PostgreSQL servers are never stopped. Figures: $GRIDCASE_DATA_DIR/faults-report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
exports=$(.venv/bin/python scripts/services.py) || { echo "Test services missing: see above." >&2; exit 1; }
eval "$exports"
command -v redis-server >/dev/null || { echo "redis-server is needed for the fault run." >&2; exit 1; }
export GRIDCASE_DATA_DIR=${GRIDCASE_DATA_DIR:-$(mktemp -d)}
export GRIDCASE_FAULTS=1
# Local/CI only: Celery refuses to start a worker as root without it. Never set in production.
export C_FORCE_ROOT=1
.venv/bin/python -m pytest -p no:cacheprovider -n 0 -s -q tests/faults "$@"
echo "Figures: $GRIDCASE_DATA_DIR/faults-report.json"
