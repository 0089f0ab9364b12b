"""`ingest.sources.CONNECTORS`, the one list of sources: every entry builds a connector writing its tables, and
both the CLI (`cbi ingest <source>`) and the orchestration (one ingest asset per source) are made from it."""

from __future__ import annotations

import typer

from cbi.cli import app
from ingest.sources import CONNECTORS


def test_every_source_builds_a_connector_writing_its_tables(monkeypatch):
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    for spec in CONNECTORS.values():
        assert spec.build().tables == spec.tables == (spec.table,)
    monkeypatch.setenv("DATABENTO_API_KEY", "db-test-key-123")
    assert CONNECTORS["futures"].build().name == "databento"


def test_the_cli_has_an_ingest_command_for_every_source():
    ingest = typer.main.get_command(app).commands["ingest"]
    assert set(CONNECTORS) <= set(ingest.commands)


def test_the_orchestration_has_one_ingest_asset_per_source_writing_its_tables():
    from dagster import AssetKey

    from orchestration.assets import INGEST_ASSETS

    assert [a.node_def.name for a in INGEST_ASSETS] == [f"ingest_{name}" for name in CONNECTORS]
    for asset, spec in zip(INGEST_ASSETS, CONNECTORS.values(), strict=True):
        assert set(asset.keys) == {AssetKey(["raw", table]) for table in spec.tables}
