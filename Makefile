# `make demo` and `make test` work on a fresh machine with only Python 3.11 and pip:
# both run `make install` first, which creates .venv once and reinstalls only when a
# pyproject.toml, constraints.txt or this Makefile changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.rewardkit-installed
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
PYTEST_ARGS ?=

.PHONY: install test test-fast demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile $(wildcard plugins/*/pyproject.toml)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -c constraints.txt -e ".[train,serve,dev]" $(foreach p,$(PLUGINS),-e $(p))
	@touch $(STAMP)

# The whole suite, slow end-to-end tests included (CI runs exactly this).
test: install
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# The quick loop while developing: everything but the tests marked slow.
test-fast: install
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/rewardkit demo

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check rewardkit plugins tests bench examples

clean:
	rm -rf $(VENV) build dist *.egg-info plugins/*/*.egg-info
