#!/usr/bin/env bash
# `make fuzz`: the longer schemathesis run, in-process and against a live gunicorn (see scripts/fuzz.py).
#   FUZZ_MAX_EXAMPLES=300 make fuzz     a larger budget (default 100 per operation and role)
#   FUZZ_SEED=1234 make fuzz            repeat a run (the seed is printed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
exports=$(.venv/bin/python scripts/services.py) || { echo "Test services missing: see above." >&2; exit 1; }
eval "$exports"
# Local/CI only: lets the test broker's worker start as root. Never set in production.
export C_FORCE_ROOT=1
exec .venv/bin/python scripts/fuzz.py
