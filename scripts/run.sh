#!/usr/bin/env bash
# Serve GridCase and run the Celery worker (with beat) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export GRIDCASE_DEV=${GRIDCASE_DEV:-true}
# Local convenience only: lets the worker start when this shell is root. Never set in production.
export C_FORCE_ROOT=${C_FORCE_ROOT:-1}

.venv/bin/celery -A gridcase worker -B --loglevel=INFO --concurrency=2 >var/celery.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

echo
echo "GridCase: http://$HOST:$PORT/   (API docs: http://$HOST:$PORT/api/docs/, admin: http://$HOST:$PORT/admin/)"
echo "Celery worker + beat: log in var/celery.log"
$PY manage.py seed demo --logins
echo
exec .venv/bin/gunicorn gridcase.wsgi:application --config deploy/gunicorn.conf.py --bind "$HOST:$PORT"
