# One command to set up and run the bot, one to set up and run the tests.
#   make run     create .venv, install, start the bot (reads .env)
#   make demo    the Slack playground: the bot, a Slack-like page and the Genesys simulator (no .env)
#   make test    create .venv, install, lint, run the whole test suite
#   make bench   run the benchmark
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py $(ARGS)

demo: $(STAMP)
	$(BIN)/python -m bot.playground $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .playground tests/browser/artifacts
