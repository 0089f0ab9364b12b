"""`cbi forecasts`' footer says what is served at each horizon and why, from the warehouse: the forecast's method
and the panel's verdict (the seed panel_evidence), not a fixed sentence. Pure: small frames and a DuckDB file
written here, no dbt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cbi.cli import app
from cbi.commands.forecasts import served_notes

EVIDENCE_CSV = Path(__file__).resolve().parents[2] / "seeds" / "panel_evidence.csv"


@pytest.fixture
def evidence() -> pd.DataFrame:
    """The seed as `dbt seed` loads it (dates as dates)."""
    return pd.read_csv(EVIDENCE_CSV, parse_dates=["first_date", "last_date"])


def latest(methods: dict[str, str]) -> pd.DataFrame:
    days = {"1w": 5, "1m": 21, "3m": 63, "6m": 126}
    return pd.DataFrame(
        {
            "as_of_date": pd.Timestamp("2024-06-28"),
            "horizon": list(methods),
            "horizon_days": [days[h] for h in methods],
            "target_date": pd.Timestamp("2024-12-31"),
            "q10": -0.1,
            "q50": 0.0,
            "q90": 0.1,
            "price_q10": 40.0,
            "price_q50": 44.0,
            "price_q90": 48.0,
            "forecast_method": list(methods.values()),
            "model_run_id": "final-abc",
        }
    )


def test_the_panels_choice_is_served_with_its_pooled_evidence(evidence):
    row = evidence.set_index("horizon").loc["1w"]
    notes = served_notes(latest({"1w": str(row.served_member)}), evidence, None)
    assert notes == [
        f"1w: {row.served_member}: chosen on the panel of {row.roots} markets "
        f"{row.first_date:%Y}-{row.last_date:%Y}: {row.best_member} at {row.pooled_skill:.3f} × rw_ewma's pinball "
        f"loss ± {row.pooled_skill_se:.3f} EWC SE, "
        f"t = {(1 - row.pooled_skill) / row.pooled_skill_se:.2f} against {row.critical_value:.2f}, "
        f"B = {row.skill_dof}."
    ]


def test_the_random_walk_the_panel_kept_says_no_challenger_beat_it(evidence):
    # the committed seed serves a challenger at every horizon; a verdict that kept rw_ewma at 6m (as before blends)
    kept = evidence.assign(served_member=np.where(evidence["horizon"] == "6m", "rw_ewma", evidence["served_member"]))
    (note,) = served_notes(latest({"6m": "rw_ewma"}), kept, None)
    assert note.startswith("6m: rw_ewma: no challenger beat it on the panel of")
    assert f"(best: {evidence.set_index('horizon').loc['6m', 'best_member']} " in note


def test_a_blend_is_served_where_zl_runs_both_of_its_members(evidence):
    blend = evidence.set_index("horizon").loc["3m", "served_member"]
    assert "+" in blend, "the committed seed serves a blend at 3m"
    parts = set(blend.split("+"))
    (note,) = served_notes(latest({"3m": blend}), evidence, parts | {"main"})
    assert note.startswith(f"3m: {blend}: chosen on the panel of 28 markets")
    (missing,) = served_notes(latest({"3m": "rw_ewma"}), evidence, {"rw_ewma", "main"})
    assert missing == f"3m: rw_ewma: the panel's {blend} is not one of ZL's members here."


def test_the_footer_follows_the_evidence_not_a_fixed_text(evidence):
    """The same forecast reads differently when the panel's verdict differs: the note comes from the data."""
    changed = evidence.assign(served_member="har", best_member="har", calibration="scale", scale_factor=1.25)
    (note,) = served_notes(latest({"1m": "har"}), changed, None)
    assert "1m: har: chosen on the panel" in note and note.endswith("intervals scaled by 1.250.")


def test_a_zl_candidate_that_beat_the_panels_choice_is_named_with_what_it_beat(evidence):
    (note,) = served_notes(latest({"1w": "calibrated"}), evidence, None)
    assert note.startswith("1w: calibrated: on ZL's own earlier out-of-fold record it beat the starting point vol_avg")
    assert note.endswith("beyond the 5% max-t critical value.")


def test_without_the_panels_member_or_verdict_the_start_is_rw_ewma(evidence):
    (missing,) = served_notes(latest({"1w": "rw_ewma"}), evidence, {"rw_ewma", "main"})
    assert missing == "1w: rw_ewma: the panel's vol_avg is not one of ZL's members here."
    (none,) = served_notes(latest({"3m": "ensemble"}), None, None)
    assert none.startswith("3m: ensemble: on ZL's own earlier out-of-fold record it beat the starting point rw_ewma")
    assert "(no panel verdict for this horizon" in none


def test_forecasts_command_prints_the_notes_from_the_warehouse(tmp_path, evidence):
    db = tmp_path / "w.duckdb"
    frame = latest({"1w": "vol_avg", "3m": "har+rw_ewma"})
    with duckdb.connect(str(db)) as con:
        for schema in ("forecasts", "reference", "ml"):
            con.execute(f"create schema {schema}")
        con.register("_p", frame)
        con.register("_e", evidence)
        con.execute("create table forecasts.zl_predictions as select * from _p")
        con.execute("create table reference.panel_evidence as select * from _e")
        con.execute("create table ml.l0_predictions as select unnest(['rw_ewma', 'vol_avg', 'har', 'main']) as member")
    result = CliRunner().invoke(app, ["forecasts", "--db", str(db)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "1w: vol_avg: chosen on the panel of 28 markets" in result.output
    assert "3m: har+rw_ewma: chosen on the panel of 28 markets" in result.output
    assert date(2024, 6, 28).isoformat() in result.output
