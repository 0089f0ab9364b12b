"""`cbi ops record`: a `dbt build` run outside Dagster (`make build`) recorded in the Dagster instance `make ops`
shows (`orchestration.build_record`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cbi.commands.common import fail
from cbi_core.settings import project_dir

ops_app = typer.Typer(help="The Dagster instance's record of what was built outside Dagster.", no_args_is_help=True)


@ops_app.command("record")
def record(
    target: Annotated[Path | None, typer.Option(help="dbt's target folder (default: the project's target/).")] = None,
) -> None:
    """Record the last `dbt build` (target/run_results.json) in $DAGSTER_HOME: each model it built as a
    materialisation, each test as a check evaluation, at dbt's own times; nothing that did not run. Idempotent."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        fail("DAGSTER_HOME is not set: the Dagster instance to record into (make build sets it to .dagster)", 2)
    folder = target or Path(project_dir(Path(__file__).resolve().parent)) / "target"
    if not (folder / "run_results.json").is_file() or not (folder / "manifest.json").is_file():
        fail(f"no dbt build to record: {folder} has no run_results.json and manifest.json (run dbt build first)")
    Path(home).mkdir(parents=True, exist_ok=True)
    from dagster import DagsterInstance

    from orchestration.build_record import record_build

    with DagsterInstance.get() as instance:
        reported, total = record_build(folder, instance)
    typer.echo(f"dbt build recorded in {home}: {reported} new event(s) of {total} (the rest were already there)")
