# Two commands do everything on a fresh machine:
#   make demo   set up, then record the seed operation and run the live demo (embedded SQLite)
#   make test   set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser services demo test lint bench clean

$(STAMP): requirements/runtime.txt requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "lfr-ledger needs Python 3.11 or newer"'
	@# OpenCV needs libGL and glib at import; a bare Debian lacks them.
	@if ! ldconfig -p | grep -q libGL.so.1 || ! ldconfig -p | grep -q libgthread-2.0.so.0; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null; \
	  else echo "OpenCV needs libgl1 and libglib2.0-0: sudo apt-get install libgl1 libglib2.0-0" >&2; exit 1; fi; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip==25.3"
	@# Every download is checked against the locks' sha256 hashes (see requirements/*.txt's headers).
	@echo "Installing the locked dependencies into $(VENV) (about a minute, once)..."
	$(BIN)/pip install -q --require-hashes -r requirements/runtime.txt -r requirements/dev.txt
	@# Built with the locked setuptools already in the venv, so nothing unhashed is fetched.
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)
	$(BIN)/lfr models fetch
	$(BIN)/lfr console-assets fetch

demo: setup
	$(BIN)/lfr demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/module_size.py

# The console's tests drive Debian's Chromium; nothing downloads a browser of its own.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "the console's tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; fi

# The real services the tests start themselves: Debian's nginx (TLS in front of the console),
# Debian's SoftHSM2 (a PKCS#11 token holding the vault's KEK) and an OpenID Provider from the npm
# registry, installed exactly as its committed lock says.
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json

$(OIDC_PROVIDER): tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund --loglevel=error
	@touch $@

services: $(OIDC_PROVIDER)
	@if ! command -v nginx >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null; \
	  else echo "the TLS tests need Debian's nginx: sudo apt-get install nginx" >&2; exit 1; fi; fi
	@if ! command -v softhsm2-util >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq softhsm2 >/dev/null; \
	  else echo "the PKCS#11 KEK tests need Debian's softhsm2: sudo apt-get install softhsm2" >&2; exit 1; fi; fi

# Two workers, one per core, each taking whole files (a file's servers and fixtures stay in one
# worker): the suite in about two thirds of the time it takes in one process.
test: setup lint browser services
	$(BIN)/pytest -n 2 --dist loadfile

# Every benchmark, then the README's and docs/benchmarks.md's figures from what they wrote: about
# N minutes on the 2-core machine (the national year at factor 1.0 is most of it).
bench: setup services browser
	$(BIN)/python bench/event_store.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/van.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/console.py --postgres
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/inclusion.py --sizes 130000 1300000
	$(BIN)/python bench/oversight_scale.py
	$(BIN)/python bench/enrolment_memory.py
	$(BIN)/python bench/int8.py
	$(BIN)/python bench/kek.py
	$(BIN)/python bench/backup.py
	$(BIN)/python bench/national.py
	$(BIN)/python bench/report.py --write

# Never var/: it is the embedded default's event store, a ledger is not a build product.
clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
