# The two commands: `make demo` and `make test`. Each creates .venv when missing and
# installs the pinned dependencies (see pyproject.toml); re-running is cheap.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tessera-installed

.PHONY: demo test lit pytest venv riscv-tools clean

venv: $(STAMP)

# The riscv target runs programs under QEMU and links them with Debian's cross gcc.
# Installed when missing and possible (root with apt); without them riscv is
# compile-only and its run tests skip.
riscv-tools:
	@command -v qemu-riscv64 >/dev/null && command -v riscv64-linux-gnu-gcc >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       qemu-user gcc-riscv64-linux-gnu >/dev/null) ; } || \
	  echo "note: qemu-user / gcc-riscv64-linux-gnu not installed; riscv is compile-only"

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

demo: $(STAMP) riscv-tools
	$(PY) examples/demo.py

test: lit pytest

lit: $(STAMP) riscv-tools
	$(VENV)/bin/lit --verbose test examples/plugin/test

pytest: $(STAMP) riscv-tools
	$(PY) -m pytest -q test/python

clean:
	rm -rf $(VENV) build *.egg-info python/*.egg-info
