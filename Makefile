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
# `make serve`: this many app processes behind nginx (serving/replicas.py).
REPLICAS ?= 2
# The realistic dev set (eval/dev_realistic.jsonl, from ../shared/eval), gated at issue 11's
# realistic targets, which it now reaches: hit@1 0.824, hit@3 0.917, facts 0.833, out of scope
# refused 1.000, answerable refused 0.009, emergencies 1.0. The index build is deterministic
# (a fresh clone's CI has matched this machine's figures exactly).
DEV_GATE = --min-hit1 0.80 --min-hit3 0.90 --min-facts 0.80 --min-refusal 0.90 \
	--max-false-refusal 0.05 --min-emergency 1.0 --min-grounding 1.0

.PHONY: run serve test index fit eval bench lint browser clean axe

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

serve: $(VENV)/.installed
	$(BIN)/python -m serving.replicas --replicas $(REPLICAS) --host $(HOST) --port $(PORT) \
	  --index $(INDEX)

index: $(VENV)/.installed
	$(BIN)/python -m indexer --index $(INDEX)

# After a change to the corpus, the training sets, the model or answering: refit what is fitted
# on the tuning sets, in order (the abstain decision reads the sentences the ranking chooses).
fit: $(VENV)/.installed-dev
	$(BIN)/python -m indexer --index $(INDEX)
	$(BIN)/python -m eval.fit_ranking --index $(INDEX)
	$(BIN)/python -m eval.fit_abstain --index $(INDEX)

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline);
# the replica tests (tests/test_replicas.py) run Debian's nginx in front of the app.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's Chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }
	@test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx; \
	  else echo "The replica tests need Debian's nginx: sudo apt-get install -y nginx" >&2; exit 1; fi; }

# The browser tests check accessibility with axe-core from npm (pinned in package-lock.json).
axe: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm; \
	  else echo "The browser tests need npm for axe-core: sudo apt-get install -y npm" >&2; exit 1; fi; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed-dev browser axe
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m eval --gate --index $(INDEX)
	$(BIN)/python -m eval --questions eval/dev_realistic.jsonl --report eval/report/dev \
	  --index $(INDEX) --no-baselines $(DEV_GATE)

eval: $(VENV)/.installed
	$(BIN)/python -m eval

bench: $(VENV)/.installed-dev
	$(BIN)/python -m eval.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(INDEX) eval/report .pytest_cache
