"""docs/design/INTERFACES.md says what the code defines: every column of the public `forecasts` models (their
enforced contracts), of the raw contract and of the ops tables is named in its section, and nothing named there
as a column is missing from the code. Pure Python: the YAML, the contract and the DDL are read, no dbt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingest.contents import CONTENTS_DDL
from ingest.contracts import OPS_INGEST_RUNS_DDL, OPS_QUARANTINE_DDL, RAW_TABLES
from orchestration.ops_tables import DDL as ORCHESTRATION_OPS_DDL

ROOT = Path(__file__).resolve().parents[2]
INTERFACES = ROOT / "docs" / "design" / "INTERFACES.md"
FORECASTS_YAML = ROOT / "models" / "forecasts" / "_forecasts__models.yml"


def section(number: int) -> str:
    """The text of `## §<number> ...` up to the next `## ` heading."""
    text = INTERFACES.read_text(encoding="utf-8")
    match = re.search(rf"^## §{number} .*?(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"INTERFACES.md has no section §{number}"
    return match.group(0)


def subsection(text: str, title: str) -> str:
    match = re.search(rf"^### {re.escape(title)}\s*$.*?(?=^#{{2,3}} |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"INTERFACES.md has no subsection '{title}'"
    return match.group(0)


def first_cells(table_text: str) -> list[str]:
    """The backticked names in the first column of a Markdown table."""
    return re.findall(r"^\|\s*`([\w.]+)`\s*\|", table_text, re.MULTILINE)


def table_row(text: str, name: str) -> str:
    match = re.search(rf"^\|\s*`{re.escape(name)}`\s*\|.*$", text, re.MULTILINE)
    assert match, f"INTERFACES.md has no row for `{name}`"
    return match.group(0)


def ddl_columns(ddl: str) -> list[str]:
    """Column names of a `create table ... (...)` statement (a table-level primary key clause dropped)."""
    body = ddl[ddl.index("(") + 1 : ddl.rindex(")")]
    body = re.sub(r",\s*primary key\s*\([^)]*\)", "", body, flags=re.IGNORECASE)
    return [part.split()[0] for part in body.split(",") if part.strip()]


FORECAST_MODELS = {m["name"]: m for m in yaml.safe_load(FORECASTS_YAML.read_text(encoding="utf-8"))["models"]}


@pytest.mark.parametrize("model", sorted(FORECAST_MODELS))
def test_public_forecast_tables_match_their_contracts(model: str) -> None:
    spec = FORECAST_MODELS[model]
    assert spec.get("access") == "public" and spec["config"]["contract"]["enforced"] is True
    documented = subsection(section(1), f"forecasts.{model}")
    rows = {name: table_row(documented, name) for name in first_cells(documented)}
    contract = {c["name"]: c["data_type"] for c in spec["columns"]}
    assert list(rows) == list(contract), f"forecasts.{model}: documented columns differ from the contract"
    for name, data_type in contract.items():
        assert f"| {data_type}" in rows[name], f"forecasts.{model}.{name}: the contract's type is {data_type}"


def test_public_forecast_models_are_all_documented() -> None:
    documented = re.findall(r"^### forecasts\.(\w+)", section(1), re.MULTILINE)
    assert sorted(documented) == sorted(FORECAST_MODELS)


def test_raw_contract_is_documented_column_by_column() -> None:
    text = section(2)
    assert sorted(re.findall(r"^\|\s*`raw\.(\w+)`", text, re.MULTILINE)) == sorted(RAW_TABLES)
    for name, table in RAW_TABLES.items():
        row = table_row(text, f"raw.{name}")
        key_cell = row.split("|")[2]
        assert [k.strip() for k in key_cell.split(",")] == list(table.key), f"raw.{name}: natural key"
        for column, data_type in table.columns.items():
            if column != "available_at":
                assert f"`{column}` {data_type}" in row, f"raw.{name}.{column} ({data_type}) is not documented"
        documented = re.findall(r"`(\w+)` [A-Z]+", row)
        assert set(documented) <= set(table.columns), f"raw.{name}: documented columns the contract lacks"


def test_ops_tables_are_documented_column_by_column() -> None:
    text = section(3)
    ddl = {
        "ingest_runs": OPS_INGEST_RUNS_DDL,
        "quarantine": OPS_QUARANTINE_DDL,
        "warehouse_contents": CONTENTS_DDL,
        **ORCHESTRATION_OPS_DDL,
    }
    assert sorted(re.findall(r"^\|\s*`ops\.(\w+)`", text, re.MULTILINE)) == sorted(ddl)
    for name, statement in ddl.items():
        row = table_row(text, f"ops.{name}")
        columns_cell = row.split("|")[3]
        documented = re.findall(r"`(\w+)`(?! [A-Z])", columns_cell)
        assert sorted(documented) == sorted(ddl_columns(statement)), f"ops.{name}: documented columns differ"
