# GridCase: `make run` (everything, on the embedded default) and `make test` (the whole suite).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := frontend/node_modules/.installed-stamp
FRONTEND_SRC := $(shell find frontend/src frontend/public frontend/scripts frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)

.PHONY: run test install frontend migrate demo lint bench bench-web fuzz clean messages faults smoke image

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

frontend/dist/index.html: $(NODE_STAMP) $(FRONTEND_SRC)
	cd frontend && npm run build

frontend: frontend/dist/index.html

migrate: install
	$(PY) scripts/services.py --ensure-db
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed demo

run: install frontend demo
	./scripts/run.sh

test: install frontend
	./scripts/test.sh

# The production stack from deploy/ (nginx, gunicorn, Celery workers per queue, beat) started on loopback ports
# with production settings, one case driven through its life and one SLA breach delivered once; all stopped.
smoke: install frontend
	$(PY) scripts/smoke.py

# Fault injection (worker killed mid-send, Redis stopped, database connections ended under load): figures printed.
faults: install
	./scripts/faults.sh

lint: install
	$(VENV)/bin/ruff check .

# The longer API fuzz run (make test runs a short one): scripts/fuzz.py.
fuzz: install
	./scripts/fuzz.sh

bench: install
	$(PY) -m tests.benchmarks.run $(BENCH_ARGS)

# The worker app's first screen on a throttled phone (KB gzipped, cold/warm seconds): needs `make demo` data.
bench-web: install frontend
	$(PY) -m tests.benchmarks.worker_load $(BENCH_ARGS)

clean:
	rm -rf var frontend/dist

# The production image from Debian packages only, built by podman (deploy/README.md, "Containers with podman"):
# the debootstrap'd base is made once (root), the frontend is built here on the host. Not part of CI.
PODMAN ?= podman
IMAGE ?= localhost/gridcase:debian
PODMAN_BUILD_OPTS ?=
image: frontend
	$(PODMAN) image exists localhost/gridcase-base:bookworm || deploy/base-image.sh
	$(PODMAN) build $(PODMAN_BUILD_OPTS) -f deploy/Containerfile.debian --ignorefile deploy/Containerfile.debian.ignore \
		-t $(IMAGE) .

# Extract translatable strings into gridcase/locale and compile them (needs gettext's msgfmt). The export
# columns and some report words are looked up by variable (`column(text)`, pgettext with a fixed context): after
# extracting, check that no `#~ msgctxt "export column"` / "monthly report" entry was marked obsolete.
messages: install
	$(PY) manage.py makemessages -l zh_Hans -i ".venv/*" -i "frontend/*" -i "tests/*" -i "var/*"
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv
