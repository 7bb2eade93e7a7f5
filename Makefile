# One command to run, one to test; both set themselves up on a fresh machine.
ifeq ($(OS),Windows_NT)
PYTHON ?= py -3
BIN := Scripts
else
PYTHON ?= python3
BIN := bin
endif
VENV ?= .venv
PY := $(VENV)/$(BIN)/python
STAMP := $(VENV)/.installed-stamp
BENCH_DIR ?= $(HOME)/.cache/posapp-bench
BENCH_MEMBERS ?= 1000000

I18N := resources/i18n
UI_SOURCES := $(wildcard posapp/ui/*.py posapp/ui/panels/*.py)
TS := $(I18N)/posapp_zh_CN.ts $(I18N)/posapp_en.ts
QM := $(TS:.ts=.qm)

.PHONY: run test lint bench soak clean translations screenshots dist

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,hq]'
	touch $(STAMP)

run: $(STAMP) $(QM)
	$(VENV)/$(BIN)/posapp --demo

lint: $(STAMP)
	$(PY) -m ruff check posapp tests benchmarks tools
	$(PY) -m ruff format --check posapp tests benchmarks tools

# PYTEST_ARGS narrows the run (the fresh-clone test runs a subset this way).
test: $(STAMP) lint $(QM)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Translations: lupdate collects the strings of posapp/ui into the .ts files (English is the
# source language), tools/fill_zh_cn.py writes the Chinese, lrelease builds the .qm files.
translations: $(STAMP)
	$(VENV)/$(BIN)/pyside6-lupdate -no-obsolete -locations relative $(UI_SOURCES) \
		-source-language en -target-language zh_CN -ts $(I18N)/posapp_zh_CN.ts
	$(VENV)/$(BIN)/pyside6-lupdate -no-obsolete -locations relative $(UI_SOURCES) \
		-source-language en -target-language en -ts $(I18N)/posapp_en.ts
	$(PY) tools/fill_zh_cn.py $(I18N)/posapp_zh_CN.ts
	$(MAKE) $(QM)

# Built, not committed; rebuilt only when its .ts changes.
$(I18N)/%.qm: $(I18N)/%.ts $(STAMP)
	$(VENV)/$(BIN)/pyside6-lrelease -silent $< -qm $@

# Every main screen, in Chinese and English, into docs/screenshots/<lang>/.
screenshots: $(STAMP) $(QM)
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshots.py --out docs/screenshots

# The one-folder bundle for this platform: dist/posapp/ (posapp, posapp-cli); see installers/.
dist: $(STAMP) $(QM)
	$(VENV)/$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller installers/posapp.spec
	QT_QPA_PLATFORM=offscreen dist/posapp/posapp-cli --self-test

bench: $(STAMP)
	$(PY) benchmarks/bench_counter.py --data-dir $(BENCH_DIR) --members $(BENCH_MEMBERS)
	$(PY) benchmarks/bench_hq.py
	$(PY) benchmarks/bench_sync.py
	$(PY) benchmarks/bench_push.py
	$(PY) benchmarks/bench_invite.py
	$(PY) benchmarks/bench_lookup.py --members $(BENCH_MEMBERS)
	$(PY) benchmarks/bench_wecom.py
	$(PY) benchmarks/bench_console.py
	$(PY) benchmarks/bench_gui.py --data-dir $(BENCH_DIR) --members $(BENCH_MEMBERS)
	$(PY) benchmarks/bench_dashboard.py --source $(BENCH_DIR)/posapp.db

# Hours, not minutes: the sync fault and model tests with 10-20x the CI examples.
soak: $(STAMP)
	POSAPP_SOAK=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest --timeout 7200 \
		tests/e2e/test_sync_model.py tests/e2e/test_sync_faults.py tests/e2e/test_sync_crashes.py

clean:
	rm -rf $(VENV) build dist *.egg-info $(QM)
