# Two commands on a fresh machine: `make demo` and `make test`. Everything installs from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Let Python cache compiled modules (.pyc) even where the environment turns that off: without them every
# process (each `airflow dags test`, each CLI test) compiles Airflow from source again, ~3 s of CPU apiece.
# Cached on first import, so only the modules in use are compiled (uv's --compile-bytecode takes 80 s for all).
export PYTHONDONTWRITEBYTECODE :=

AZURITE := tests/azurite/node_modules/.bin/azurite-blob

.PHONY: install demo test test-fast lint bench clean sdks system

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

# Azurite (the Azure Blob emulator) for the integration tests, from npm at the locked version.
$(AZURITE): tests/azurite/package.json tests/azurite/package-lock.json
	npm ci --prefix tests/azurite --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the tests use, as command:package: Chromium for the browser test of the Airflow UI (driven by
# Playwright, no browser download), ffmpeg for probing videos, docker-compose to validate docker/ offline,
# Postgres and Redis for the Celery stack (tests/reliability/test_celery.py, `make up EXECUTOR=celery`).
# Installed with apt-get when run as root; otherwise the script prints the command to run.
SYSTEM_PACKAGES := chromium:chromium ffprobe:ffmpeg docker-compose:docker-compose \
	/usr/lib/postgresql/*/bin/postgres:postgresql redis-server:redis-server

system:
	@tests/system-packages.sh $(SYSTEM_PACKAGES)

# The platforms' official SDKs (darwin-py, encord, redbrick-sdk), each in a venv of its own at the versions pinned
# in tests/conformance/requirements/<name>.txt: tests/conformance runs their own flows against our fakes.
SDK_REQS := $(wildcard tests/conformance/requirements/*.txt)
SDKS := $(patsubst tests/conformance/requirements/%.txt,.sdk/%/.installed,$(SDK_REQS))

.sdk/%/.installed: tests/conformance/requirements/%.txt $(UV)
	rm -rf .sdk/$*
	$(UV) venv --quiet --python $(PYTHON) .sdk/$*
	$(UV) pip install --quiet --python .sdk/$*/bin/python -r $<
	touch $@

sdks: $(SDKS)

demo: install .sdk/labelstudio/.installed
	$(BIN)/python -m tests.demo

# Two workers (pytest-xdist; one per core here): most tests wait on servers and subprocesses, not the CPU.
# A file's tests stay on one worker, so its module fixtures (a seeded bucket, an Airflow home) are made once.
test: install system $(AZURITE) $(SDKS)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: install system $(AZURITE) $(SDKS)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

# The real Airflow UI on dags/ (127.0.0.1:8080, or PORT=...) with moto S3 and the fake platforms, in the
# background; `make down` stops it. See tests/stack.py. EXECUTOR=celery: Postgres, Redis, the CeleryExecutor and
# two workers with the workspace on S3 (tests/celery_stack.py; needs `make system`).
.PHONY: up down
up: install .sdk/labelstudio/.installed $(if $(filter celery,$(EXECUTOR)),system)
	$(BIN)/python -m tests.stack up $(if $(PORT),--port $(PORT)) $(if $(EXECUTOR),--executor $(EXECUTOR))

down:
	$(BIN)/python -m tests.stack down

bench: install $(AZURITE) .sdk/labelstudio/.installed
	AIRFLOW_HOME=$(CURDIR)/.bench-home $(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) .sdk tests/azurite/node_modules .demo .bench-home bench/.logs .test-output .pytest_cache .mypy_cache .ruff_cache .up
