# CBI: two commands on a fresh machine with Python 3.11 -- `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

export CBI_DUCKDB_PATH ?= $(CURDIR)/cbi.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE ?= 1

.PHONY: demo install check-lock lock sample build forecasts dashboard test test-fast lint format docs clean real ops

## demo: install, generate the offline sample, dbt build (models, gates, ML) and print the latest forecasts
demo: install sample build forecasts

## install: create .venv and install exactly requirements.lock (CBI, its dev tools, CPU torch 2.13.0) with uv
install: $(VENV)/.installed

# The lock and the installer. uv gets the machine's pip index settings (cbi_core/pip_index.py), so it finds
# what pip finds here (the CPU torch wheel among them); it is itself pinned, with hashes, in the lock.
LOCK := requirements.lock
UV := $(BIN)/uv
UV_WITH_PIP_INDEXES = $(PYTHON) -m cbi_core.pip_index $(UV)
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28
UPGRADE_FLAGS = $(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE)))

$(VENV)/.installed: $(LOCK) pyproject.toml | check-lock $(UV)
	$(UV_WITH_PIP_INDEXES) pip sync --quiet --python $(BIN)/python $(LOCK)
	$(UV_WITH_PIP_INDEXES) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# Before anything is installed: Python 3.11, and a lock made from pyproject.toml's current ranges.
check-lock:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "CBI needs Python 3.11 (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -m cbi_core.lockfile check $(LOCK)

$(UV): $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PYTHON) -m cbi_core.lockfile pin uv $(LOCK) > $(VENV)/uv-requirement.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r $(VENV)/uv-requirement.txt
	@touch $@

## lock: resolve pyproject.toml's ranges into requirements.lock (Python 3.11, Linux x86-64); keeps every pin that
##       still fits its range; UPGRADE="dagster ray" moves those packages to their newest release that fits,
##       UPGRADE=all every package (docs/install.md)
lock: $(UV)
	$(UV_WITH_PIP_INDEXES) pip compile pyproject.toml --extra dev $(LOCK_TARGET) --generate-hashes --quiet \
		--custom-compile-command 'make lock' $(UPGRADE_FLAGS) -o $(LOCK)
	$(PYTHON) -m cbi_core.lockfile stamp $(LOCK)

## sample: write the deterministic offline sample into the raw schema (idempotent)
sample: install
	$(BIN)/cbi sample

## real: load every real file of ../shared/data/real/ (futures, FRED, EIA, EPA, news) into $(REAL_DB)
REAL_DIR ?= $(CURDIR)/../shared/data/real
REAL_DB ?= $(CURDIR)/real.duckdb
real: install
	$(BIN)/cbi ingest real-files $(REAL_DIR) --db $(REAL_DB)

## build: dbt build -- staging, features, gates, then training and forecasts -- then publish the read-only snapshot
##        and record what dbt built in the Dagster instance `make ops` shows (cbi ops record)
build: install
	$(BIN)/dbt build
	$(BIN)/cbi snapshot publish
	mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/cbi ops record

## forecasts: print the latest forecast table
forecasts: install
	$(BIN)/cbi forecasts

## dashboard: write the static dashboard to site/ from the published snapshot (open site/index.html)
dashboard: install
	$(BIN)/cbi dashboard build

## test: the whole test suite (unit, loader, and dbt builds on a small sample) in TEST_WORKERS processes
##       (pytest-xdist; they share one build of the sample warehouse; timings: bench/README.md)
TEST_WORKERS ?= 2
XDIST = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: install
	$(BIN)/pytest $(XDIST)

## test-fast: the tests that run no dbt (pure Python, about a minute): the edit loop
test-fast: install
	$(BIN)/pytest -m "not dbt" $(XDIST)

## lint: ruff for Python, sqlfluff for the dbt SQL
lint: install
	$(BIN)/ruff check cbi ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/ruff format --check cbi ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/sqlfluff lint models ml tests

format: install
	$(BIN)/ruff format cbi ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/ruff check --fix cbi ingest cbi_ml cbi_core dashboard orchestration ml tests bench

## ops: the Dagster UI on http://127.0.0.1:3000 with the jobs and schedules (run history in .dagster/, git-ignored)
DAGSTER_HOME ?= $(CURDIR)/.dagster
ops: install
	mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

## docs: dbt docs (lineage, every model and column) from the published snapshot; serve: .venv/bin/dbt docs serve
docs: install
	CBI_SNAPSHOT_PATH="$$($(BIN)/cbi snapshot path)" CBI_TARGET=snapshot $(BIN)/dbt docs generate

clean:
	rm -rf target logs artifacts site cbi.duckdb cbi.duckdb.wal cbi.snapshot.duckdb .pytest_cache
