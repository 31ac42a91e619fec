# The two commands of the README:
#   make demo  — set up a fresh machine and run the offline demo
#   make test  — set up, start PostgreSQL, and run the whole test suite (what CI runs)
# and the loop a developer runs fifty times a day:
#   make check — ruff, the import contract, mypy and every test that needs no service (no PostgreSQL, Redis or
#                browser) and no subprocess of the CLI (the e2e journeys)
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo test check lint lock clean training-data corpora intent-head

setup: $(VENV)/.installed

# torch is pinned to the CPU build that lies on this machine's disk; an unpinned torch pulls CUDA.
# requirements.lock pins every package to the versions the suite last passed with (`make lock` rewrites it).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q torch==2.13.0 -c requirements.lock
	$(VENV)/bin/pip install -q -e '.[dev]' -c requirements.lock
	touch $@

demo: setup
	$(VENV)/bin/overheard demo

test: setup
	scripts/test.sh

check: setup
	scripts/check.sh

lock: setup
	$(VENV)/bin/pip freeze --exclude-editable | grep -vi "^overheard" | sort > requirements.lock

# Training (training/ is not installed; see classifiers/artifacts/MODEL_CARD.md for the full recipes):
#   make training-data — fetch the tweet texts the training and `overheard train` read into var/data/
#   make corpora       — regenerate the synthetic and multilingual posts in classifiers/data/ (byte for byte)
#   make intent-head   — refit the shipped intent head on classifiers/artifacts (needs training-data)
training-data: setup
	$(VENV)/bin/python scripts/fetch_training_data.py

corpora: setup
	$(VENV)/bin/python -m training.data.intent.synthetic.generate
	$(VENV)/bin/python -m training.data.multilingual.generate

intent-head: setup
	$(VENV)/bin/python -m training.intent

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf var/demo .pytest_cache
