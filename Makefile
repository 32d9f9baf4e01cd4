# The two commands: `make demo` and `make test`. Each creates .venv when missing and
# installs the pinned dependencies (see pyproject.toml); re-running is cheap.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tessera-installed

.PHONY: demo test lit pytest venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(PY) examples/demo.py

test: lit pytest

lit: $(STAMP)
	$(VENV)/bin/lit --verbose test

pytest: $(STAMP)
	$(PY) -m pytest -q test/python

clean:
	rm -rf $(VENV) build *.egg-info python/*.egg-info
