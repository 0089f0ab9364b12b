"""`cbi panel`: read every root's continuous series from the warehouse, run the panel, write the tables.

The series is `int_futures__continuous`, the dbt model ZL's own returns come from (rolls and back-adjustment as
ZL's pipeline makes them). When the warehouse holds raw futures bars but not that model (after `make real` or
`cbi ingest futures --file`), the command builds it (and its staging view) with dbt first.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from cbi_ml.dataset import target_column
from cbi_ml.members.distribution import MIN_TRAIN
from cbi_ml.members.registry import daily_members
from cbi_ml.panel.members import PANEL_MEMBERS, registry
from cbi_ml.panel.prices import BAR_COLUMNS, price_frame
from cbi_ml.panel.runner import PanelResult, PanelSettings, run_panel

log = logging.getLogger(__name__)

CONTINUOUS = "intermediate.int_futures__continuous"
RAW = "raw.futures_ohlcv_daily"


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    return bool(found and found[0])


def build_continuous(db: str) -> None:
    """dbt run of the staging view and `int_futures__continuous` into `db` (the project's own models)."""
    import os

    from dbt.cli.main import dbtRunner

    from cbi_core.settings import project_dir

    root = project_dir()
    target = root / "target" / "cbi_panel"
    profiles = os.environ.get("DBT_PROFILES_DIR", str(root))
    args = ["run", "--quiet", "--project-dir", str(root), "--profiles-dir", profiles, "--target-path", str(target)]
    args += ["--log-path", str(target), "--select", "stg_futures__ohlcv_daily", "int_futures__continuous"]
    before = os.environ.get("CBI_DUCKDB_PATH")
    os.environ["CBI_DUCKDB_PATH"] = str(Path(db).resolve())  # the profile's path for this run only
    try:
        result = dbtRunner().invoke(args)
    finally:
        if before is None:
            os.environ.pop("CBI_DUCKDB_PATH", None)
        else:
            os.environ["CBI_DUCKDB_PATH"] = before
    if not result.success:
        raise RuntimeError(f"dbt could not build int_futures__continuous in {db}: {result.exception}")


def read_bars(db: str, roots: list[str] | None) -> pd.DataFrame:
    """Every root's continuous bars (BAR_COLUMNS), building the model first when only raw bars are there."""
    with duckdb.connect(db, read_only=True) as con:
        has_continuous, has_raw = _has_table(con, CONTINUOUS), _has_table(con, RAW)
    if not has_continuous:
        if not has_raw:
            raise ValueError(f"{db} holds no futures bars ({RAW}): load them with `cbi ingest futures --file`")
        log.info("building %s from %s", CONTINUOUS, RAW)
        build_continuous(db)
    with duckdb.connect(db, read_only=True) as con:
        bars = con.execute(f"select {', '.join(BAR_COLUMNS)} from {CONTINUOUS} order by root, trade_date").df()
    held = sorted(bars["root"].unique())
    if roots:
        missing = [r for r in roots if r not in held]
        if missing:
            raise ValueError(f"{db}: no futures bars for root(s) {missing}; the warehouse holds {held}")
        bars = bars[bars["root"].isin(roots)]
    return bars


def price_frames(
    bars: pd.DataFrame, horizons: dict[str, int], ewma_lambda: float, start: str
) -> dict[str, pd.DataFrame]:
    """One price frame per root with enough history; a root with too little gets one log line and is left out."""
    frames = {}
    longest = max(horizons.values())
    for root, group in bars.groupby("root", sort=True):
        frame = price_frame(group, horizons, ewma_lambda)
        before = frame["as_of_date"] < pd.Timestamp(start)
        labelled = int(frame.loc[before, target_column(longest)].notna().sum())
        if labelled < MIN_TRAIN:
            log.warning(
                "root %s left out: %d labelled %d-day rows before %s, the members need %d",
                root, labelled, longest, start, MIN_TRAIN,
            )  # fmt: skip
            continue
        frames[str(root)] = frame
    if not frames:
        raise ValueError(f"no root has {MIN_TRAIN} labelled rows before {start}: start later")
    return frames


def run_panel_command(
    db: str,
    out: Path,
    settings: PanelSettings,
    roots: list[str] | None = None,
    members: list[str] | None = None,
    evidence: Path | None = None,
    horizons: dict[str, int] | None = None,
    ewma_lambda: float | None = None,
) -> PanelResult:
    """Read, run, write DIR/panel_metrics.csv, panel_summary.csv, panel_members.csv (and the evidence file).
    Horizons and the EWMA decay are the project's (`cbi_horizons`, `cbi_ml.ewma_lambda`); `horizons` replaces
    the first, `ewma_lambda` the second (both given: no dbt parse)."""
    bars = read_bars(db, roots)  # first: a missing root or warehouse fails before dbt parses the project
    if horizons is None or ewma_lambda is None:
        from cbi_ml.project import project_config

        cfg = project_config()
        horizons, ewma_lambda = horizons or cfg.horizons, ewma_lambda or cfg.ewma_lambda
        # the final choice serves only what ZL's pipeline runs (the registry's daily members)
        settings = replace(settings, candidates=tuple(m for m in daily_members(cfg.buckets) if m in PANEL_MEMBERS))
    frames = price_frames(bars, horizons, ewma_lambda, settings.start)
    chosen = list(members or PANEL_MEMBERS)
    every = registry()
    unknown = [m for m in chosen if m not in every]
    if unknown:
        raise ValueError(f"unknown panel member(s) {unknown}; known: {sorted(every)}")
    result = run_panel(frames, {m: every[m] for m in chosen}, horizons, settings)
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "panel_metrics.csv", index=False)
    result.summary.to_csv(out / "panel_summary.csv", index=False)
    result.members.to_csv(out / "panel_members.csv", index=False)
    if evidence is not None:
        result.evidence.assign(
            generated_by=f"cbi panel --start {settings.start} --end {settings.end} --refit-every {settings.refit_every}"
        ).to_csv(evidence, index=False)
    return result
