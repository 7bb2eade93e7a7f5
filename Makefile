# One command to run, one to test; both set themselves up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_DIR ?= $(HOME)/.cache/posapp-bench
BENCH_MEMBERS ?= 1000000

.PHONY: run test lint bench soak clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,hq]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/posapp --demo

lint: $(STAMP)
	$(PY) -m ruff check posapp tests benchmarks
	$(PY) -m ruff format --check posapp tests benchmarks

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_counter.py --data-dir $(BENCH_DIR) --members $(BENCH_MEMBERS)
	$(PY) benchmarks/bench_hq.py
	$(PY) benchmarks/bench_sync.py

# Hours, not minutes: the sync fault and model tests with 10-20x the CI examples.
soak: $(STAMP)
	POSAPP_SOAK=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest --timeout 7200 \
		tests/e2e/test_sync_model.py tests/e2e/test_sync_faults.py tests/e2e/test_sync_crashes.py

clean:
	rm -rf $(VENV) build dist *.egg-info
