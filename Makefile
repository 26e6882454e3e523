# One command to set up and run the bot, one to set up and run the tests.
#   make run     create .venv, install, start the bot (reads .env)
#   make demo    the Slack playground: the bot, a Slack-like page and the Genesys simulator (no .env)
#   make test    create .venv, install, lint, run the whole test suite
#   make bench   run the benchmark
#   make lock    re-resolve requirements.lock and requirements-dev.lock from pyproject.toml
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Pinned, hashed versions of everything pyproject.toml asks for (make lock writes them):
# requirements-dev.lock = runtime + dev extras + build backend (.venv, CI);
# requirements.lock     = runtime + build backend only, same versions (the container image).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# make lock runs pip-compile from its own venv, so it works even when .venv can't be installed
# (a new dependency in pyproject.toml that the lock doesn't have yet).
TOOLS := .venv-tools
LOCK_TOOLS := pip==26.3 pip-tools==7.6.2
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --all-build-deps --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: run demo test lint bench lock clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	@# The project itself, editable, from what the lock just installed: --no-index fails (rather than
	@# installing an unpinned version) when pyproject.toml asks for something the lock doesn't have.
	$(BIN)/python -m pip install --quiet --isolated --no-index --no-build-isolation -e ".[dev]" \
		|| { echo "pyproject.toml and $(DEV_LOCK) disagree: run 'make lock' and commit both lock files." >&2; exit 1; }
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

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet $(LOCK_TOOLS)
	@touch $@

# Keeps every pin that still satisfies pyproject.toml; ARGS=--upgrade moves everything to the newest
# allowed versions, ARGS="--upgrade-package slack-bolt" just one. The lock is resolved for the
# running interpreter, so it must be CPython 3.11 (CI's and the image's).
lock: $(TOOLS)/.installed
	@$(TOOLS)/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make lock must run on Python 3.11 (found %s); set PYTHON=python3.11 and delete $(TOOLS)" % sys.version.split()[0])'
	CUSTOM_COMPILE_COMMAND="make lock" $(TOOLS)/bin/pip-compile $(LOCK_FLAGS) --all-extras $(ARGS) \
		-o $(DEV_LOCK) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(TOOLS)/bin/pip-compile $(LOCK_FLAGS) -c $(DEV_LOCK) $(ARGS) \
		-o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .playground tests/browser/artifacts
