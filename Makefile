# One command for each thing a developer does; the stack itself is run by `python -m devstack`.
# Settings come from the environment (see devstack/config.py and campus_common/config.py),
# e.g. `PG_PORT=5433 GATEWAY_PORT=3200 make up`, `RUN_DIR=/tmp/stack2 make up`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# `make down` must work even without a virtualenv: its path needs only the standard library.
STACK_PYTHON = $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,$(PYTHON))
PYTEST_ARGS ?=

.PHONY: help venv lock lint run up down status demo test chaos bench bench-peers bench-history

help:
	@echo "make run     install what is missing, start the stack, run the demo, leave it running"
	@echo "make up      the same without the demo"
	@echo "make down    stop the stack (Postgres and Redis included)"
	@echo "make status  what runs and whether it is healthy"
	@echo "make test    make lint, then the whole test suite (own Postgres/Redis on free ports)"
	@echo "make lint    ruff, mypy and lint-imports (config in pyproject.toml): keep it clean, make test and CI fail on it"
	@echo "make lock    recompile requirements.lock / requirements-test.lock after a change to pyproject.toml"
	@echo "make chaos   the long fault-injection run (pytest -m chaos)"
	@echo "make bench   saga throughput, latency and memory on a stack of its own (figures only)"
	@echo "make bench-peers  this engine beside a raw Celery chain, a durable chain, DBOS and a sync loop"
	@echo "make bench-history  empty tables vs. 1M finished sagas: latencies, scans and their EXPLAIN"

# The virtualenv with the project and its test tools at the pinned versions; rebuilt when they change.
$(STAMP): pyproject.toml requirements-test.lock
	@# Debian's python3 ships venv without ensurepip: install python3-venv only when that is the problem.
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "python3 -m venv failed: installing Debian's python3-venv"; \
		apt-get update -q && apt-get install -y -q python3-venv </dev/null && $(PYTHON) -m venv $(VENV); }
	@echo "installing the project and its test tools into $(VENV) (log: $(VENV)/pip-install.log)"
	@{ $(VENV)/bin/python -m pip install --disable-pip-version-check -r requirements-test.lock \
		&& $(VENV)/bin/python -m pip install --disable-pip-version-check --no-deps -e .; } >$(VENV)/pip-install.log 2>&1 \
		|| { tail -n 40 $(VENV)/pip-install.log; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

# Exact versions for the image (requirements.lock) and the virtualenv (requirements-test.lock).
PIP_COMPILE = $(VENV)/bin/pip-compile -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host
lock: venv
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra test -o requirements-test.lock pyproject.toml

# Whatever lands must keep this clean (make test, and so CI, runs it first).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

run: venv
	$(VENV)/bin/python -m devstack run

up: venv
	$(VENV)/bin/python -m devstack up

demo: venv
	$(VENV)/bin/python -m devstack demo

down:
	$(STACK_PYTHON) -m devstack down

status:
	$(STACK_PYTHON) -m devstack status

# pytest's exit status 5 means "collected no test": not a failure of the suite.
PYTEST = status=0; $(VENV)/bin/pytest $(1) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; status=0; fi; exit $$status

# The suite starts its own Postgres and Redis: their binaries must be on the machine.
test: venv lint
	@$(VENV)/bin/python -m devstack system
	@$(call PYTEST,$(PYTEST_ARGS))

# CHAOS=1 lifts the skip that keeps the long run out of `make test` (tests/chaos/conftest.py).
chaos: venv
	@$(VENV)/bin/python -m devstack system
	@export CHAOS=1; $(call PYTEST,-m chaos tests/chaos $(PYTEST_ARGS))

bench: venv
	$(VENV)/bin/python bench/saga_throughput.py $(BENCH_ARGS)

# This engine beside the peers (raw Celery chain, durable chain, DBOS, sync loop) on one workload,
# from ../shared/peers (PEERS_DIR); installs the peers' tools (dbos, ...) into .run/peers/venv.
bench-peers: venv
	@$(VENV)/bin/python -c "import psutil" 2>/dev/null || $(VENV)/bin/python -m pip install -q psutil
	$(VENV)/bin/python bench/peers.py $(BENCH_ARGS)

# Several minutes: fills its own stack's saga schemas with 1M+ finished sagas (not part of `make test`).
bench-history: venv
	$(VENV)/bin/python bench/history.py $(BENCH_ARGS)
