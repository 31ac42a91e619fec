# The two commands of the README:
#   make demo  — set up a fresh machine and run the offline demo
#   make test  — set up, start PostgreSQL, and run the whole test suite (what CI runs)
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

# torch is pinned to the CPU build that lies on this machine's disk; an unpinned torch pulls CUDA.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/overheard demo

test: setup
	scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf var/demo .pytest_cache
