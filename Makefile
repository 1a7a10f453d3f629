# The README's two commands, `make run` and `make test`, and their helpers (docs/OPERATIONS.md).
# Recipes that start servers are a single plain command: make then execs it without a shell,
# and the SIGTERM make forwards to its children lands in our Python, which cleans up.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench fault clean-var

run: var/.deps-run
	$(PY) scripts/run.py

test: var/.deps-dev
	scripts/test.sh $(PYTEST_ARGS)

lint: var/.deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	scripts/typecheck.sh

# Own private servers (mode bench: durable settings); wrk generates the HTTP load.
bench: var/.deps-dev
	$(PY) scripts/services.py packages wrk
	$(PY) scripts/services.py run --mode bench -- $(PY) -m bench $(BENCH_ARGS)

# Reserved for fault-injection tests; runs whatever tests/faults holds.
fault: var/.deps-dev
	$(PY) scripts/services.py run --mode test -- $(VENV)/bin/pytest tests/faults $(PYTEST_ARGS)

# Stops the private servers first: deleting a running cluster's files would corrupt it.
clean-var:
	$(if $(wildcard $(PY)),$(PY),python3) scripts/services.py stop --remove
	rm -rf var

# Debian ships venv's pip bootstrap separately (python3.11-venv).
$(VENV)/pyvenv.cfg:
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(PYTHON) scripts/services.py packages $(PYTHON)-venv
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Stamps: reinstall only when a requirements file or the venv itself is newer.
var/.deps-run: requirements.txt $(VENV)/pyvenv.cfg
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	@mkdir -p var && touch $@

var/.deps-dev: requirements.txt requirements-dev.txt $(VENV)/pyvenv.cfg
	$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@mkdir -p var && touch $@
