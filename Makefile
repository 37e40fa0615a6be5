# Two commands for a new user: `make run` (the app) and `make test` (the test suite + eval gate).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# torch must be the CPU build. On this project's machines `pip install torch==2.13.0` finds it on
# disk; elsewhere run e.g. `make run TORCH_INDEX=https://download.pytorch.org/whl/cpu`.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
INDEX ?= index
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test index eval bench lint browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/python app.py --host $(HOST) --port $(PORT) --index $(INDEX)

index: $(VENV)/.installed
	$(BIN)/python -m indexer --index $(INDEX)

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's Chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m eval --gate --index $(INDEX)

eval: $(VENV)/.installed
	$(BIN)/python -m eval

bench: $(VENV)/.installed-dev
	$(BIN)/python -m eval.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(INDEX) eval/report .pytest_cache
