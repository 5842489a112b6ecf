# Two commands on a fresh clone: `make report` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --constraint constraints.txt

.PHONY: report test check lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --quiet --upgrade pip
	$(PIP) --quiet -e '.[test]'
	touch $@

report: $(VENV)/.installed
	$(PY) -m derive report

check: $(VENV)/.installed
	$(PY) -m derive check

test: $(VENV)/.installed
	$(PY) -m ruff check derive tests benchmarks
	$(PY) -m pytest -q -n 2

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .derive-cache
