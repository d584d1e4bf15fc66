# GlucoseStream — every target sets itself up on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
PYTEST_ARGS ?=
SCALE_ARGS ?=
# make test runs its modules on this many pytest-xdist workers (whole files per worker: a module's
# fixtures, such as a local stack, start once).
TEST_WORKERS ?= 2
# checkov pins old boto3/packaging versions: it gets its own venv, never the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.DEFAULT_GOAL := help
.PHONY: help setup setup-kcl run test test-kcl test-unit test-component test-faults test-deploy aws-rehearsal lint format bench bench-scale docs-figures clean build tf-check tf-rehearsal

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,dashboard,dev,kcl]'
	@touch $@

$(NODE_INSTALLED): package.json package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20+ is required for the local Kinesis (kinesalite)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_INSTALLED):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	@rm -f $(CHECKOV_VENV)/.installed-* && touch $@

setup: $(INSTALLED) $(NODE_INSTALLED) ## create .venv, install the project and the npm part of the local stack

# The KCL consumer's local run needs a JVM (the MultiLangDaemon) and nghttpx (the KCL speaks
# HTTP/2 with prior knowledge; kinesalite only HTTP/1.1): Debian packages, installed when missing.
setup-kcl: setup ## the KCL consumer's system packages (Java 17, nghttp2-proxy), apt-installed when missing (root)
	@missing=""; command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v nghttpx >/dev/null || missing="$$missing nghttp2-proxy"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "the KCL consumer needs:$$missing (apt-get install as root)"; exit 1; fi; \
	fi

run: setup ## the main job: local stack, cohort (14-day backfill, then live), alerts, lake, pipeline, dashboard on :5006
	$(BIN)/glucosestream demo

test: setup ## run the whole test suite (the long fault scenarios and deployment checks excepted: make test-faults, make test-deploy)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-unit: setup ## the fast inner loop (about a minute): tests/unit only, pure and in-process (no moto, subprocess or server)
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

test-component: setup ## tests/component: in-process but costly (moto, subprocesses, servers on threads, ELT and ASL runs over a lake)
	$(PY) -m pytest tests/component -q $(PYTEST_ARGS)

test-kcl: setup-kcl ## the KCL consumer on the local stack (minutes: the Java daemon's own start-up waits)
	$(PY) -m pytest tests/kcl -q -m kcl $(PYTEST_ARGS)

test-faults: setup ## every fault-injection scenario, the long random-kill ones included
	$(PY) -m pytest tests/faults -m "integration or faults_long" -s $(PYTEST_ARGS)

lint: setup tf-check ## ruff (lint + format check), mypy, and the Terraform checks (tf-check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

build: setup ## reproducible Lambda artefacts for Terraform: dist/lambda/code.zip, runtime-layer.zip, analytics-layer.zip
	$(PY) scripts/build_lambdas.py --out dist/lambda

tf-check: setup $(CHECKOV_INSTALLED) ## terraform fmt -check, init + validate of every module and env (offline via a local provider mirror), checkov
	$(PY) terraform/tools/tf_check.py all

tf-rehearsal: build ## terraform apply of envs/dev against a local moto server, read back, destroy (~2.5 min)
	$(PY) terraform/tools/moto_rehearsal.py apply --dist dist/lambda

test-deploy: setup ## deployment checks (minutes): terraform apply/read back/destroy against moto, the dashboard image's environment built and served
	$(PY) -m pytest -m deploy $(PYTEST_ARGS)

aws-rehearsal: setup ## AWS mode end to end on one machine: terraform apply to moto, a cohort through the deployed resources with GS_MODE=aws, marts compared with local mode
	$(PY) terraform/tools/aws_rehearsal.py

format: setup ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## run every benchmark in bench/ and write docs/benchmarks.md (ratios against in-run baselines)
	$(PY) bench/report.py

bench-scale: setup ## opt-in: a lake of 10,000 patients x 90 days through the pipeline (time, peak RSS); rewrites its section of docs/benchmarks.md
	$(PY) bench/report.py --only scale -- $(SCALE_ARGS)

docs-figures: setup ## regenerate the README figures (installs the docs extra: matplotlib)
	$(PY) -m pip install --quiet -e '.[docs]'
	$(PY) docs/scripts/plot_simulated_week.py
	$(PY) docs/scripts/screenshot_make_run.py

clean: ## stop the local stack and remove local state (.gs); keeps .venv and node_modules
	-@test -x $(BIN)/glucosestream && $(BIN)/glucosestream local down
	rm -rf .gs .pytest_cache .mypy_cache .ruff_cache
