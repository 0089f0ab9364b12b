# CBI: two commands on a fresh machine with Python 3.11 -- `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

export CBI_DUCKDB_PATH ?= $(CURDIR)/cbi.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE ?= 1

.PHONY: demo install sample build forecasts dashboard test lint format docs clean real ops

## demo: install, generate the offline sample, dbt build (models, gates, ML) and print the latest forecasts
demo: install sample build forecasts

## install: create .venv and install CBI with its dev tools (torch pinned to the 2.13.0 CPU wheel)
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "CBI needs Python 3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

## sample: write the deterministic offline sample into the raw schema (idempotent)
sample: install
	$(BIN)/cbi sample

## real: load every real file of ../shared/data/real/ (futures, FRED, EIA, EPA, news) into $(REAL_DB)
REAL_DIR ?= $(CURDIR)/../shared/data/real
REAL_DB ?= $(CURDIR)/real.duckdb
real: install
	$(BIN)/cbi ingest real-files $(REAL_DIR) --db $(REAL_DB)

## build: dbt build -- staging, features, gates, then training and forecasts -- then publish the read-only snapshot
build: install
	$(BIN)/dbt build
	$(BIN)/cbi snapshot publish

## forecasts: print the latest forecast table
forecasts: install
	$(BIN)/cbi forecasts

## dashboard: write the static dashboard to site/ from the published snapshot (open site/index.html)
dashboard: install
	$(BIN)/cbi dashboard build

## test: the whole test suite (unit, loader, and dbt builds on a small sample)
test: install
	$(BIN)/pytest

## lint: ruff for Python, sqlfluff for the dbt SQL
lint: install
	$(BIN)/ruff check ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/ruff format --check ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/sqlfluff lint models ml tests

format: install
	$(BIN)/ruff format ingest cbi_ml cbi_core dashboard orchestration ml tests bench
	$(BIN)/ruff check --fix ingest cbi_ml cbi_core dashboard orchestration ml tests bench

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
