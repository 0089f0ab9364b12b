"""ZL's final layer starts from the panel's verdict (`seeds/panel_evidence.csv`) and leaves it only on strong ZL
evidence: Student-t(B) critical values at 5% / K, simulated on GARCH-t paths with ZL's out-of-fold budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from panel_sim import noisy_oracle_quantiles

from cbi_ml.combine.final import BLEND, PanelVerdict, earned_choice, final_layer, panel_verdicts
from cbi_ml.panel.members import registry

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "panel_evidence.csv"


def _members(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    base = np.array([-1.2816, 0.0, 1.2816])
    return {"rw_ewma": np.tile(base, (n, 1)), "vol_avg": np.tile(base * 1.1, (n, 1)) + rng.normal(0, 0.01, (n, 1))}


def test_the_final_layer_serves_the_panel_verdict_where_zl_has_that_member():
    rng = np.random.default_rng(1)
    n, days = 600, 5
    y, folds, pos = rng.normal(0, 1, n), np.repeat(np.arange(3), 200), np.arange(n)
    members = _members(n, rng)
    nothing = np.full((n, 3), np.nan)  # no ensemble, no calibration: only the starting point and the best member
    verdict = PanelVerdict("vol_avg", "none", 1.07)
    final, source = final_layer(y, nothing, nothing, members, folds, pos, days, verdict)
    assert (source == "vol_avg").all()
    np.testing.assert_array_equal(final, members["vol_avg"])
    # calibrated as the panel says: stretched about the median by the pooled factor
    final, _ = final_layer(y, nothing, nothing, members, folds, pos, days, PanelVerdict("vol_avg", "scale", 1.07))
    np.testing.assert_allclose(final[:, 2] - final[:, 1], 1.07 * (members["vol_avg"][:, 2] - members["vol_avg"][:, 1]))
    # no verdict, or a member ZL does not run: the random walk
    _, source = final_layer(y, nothing, nothing, members, folds, pos, days)
    assert (source == "rw_ewma").all()
    _, source = final_layer(y, nothing, nothing, members, folds, pos, days, PanelVerdict("garch_x", "none", 1.0))
    assert (source == "rw_ewma").all()


def test_equal_zl_candidates_leave_the_starting_point_at_most_five_percent_of_the_time():
    """Three challengers exactly as good as the starting point, on ZL's budget (three out-of-fold folds of 252 rows,
    the latest forecast judged on all of them), 200 GARCH-t paths: the old rule (two SEs, each challenger in turn)
    left the random walk 12-19% of the time."""
    reps, n = 200, 757
    folds = np.r_[np.repeat(np.arange(3), 252), -1]
    equal = (0.5, np.sqrt(0.75))
    forecasts = {"start": equal, "a": equal, "b": equal, "c": equal}
    left = {5: 0, 21: 0}
    for rep in range(reps):
        for days, (y, q) in noisy_oracle_quantiles(np.random.default_rng(rep), n, 1, (5, 21), forecasts).items():
            candidates = [(name, q[name][:, 0, :], None) for name in forecasts]
            _, names = earned_choice(y[:, 0], candidates, folds, np.arange(n), days)
            left[days] += names[-1] != "start"
    slack = 1.645 * np.sqrt(0.05 * 0.95 / reps)
    assert all(count / reps <= 0.05 + slack for count in left.values()), left


def test_the_committed_panel_evidence_is_a_command_s_output_production_can_read():
    evidence = pd.read_csv(SEED_FILE)
    verdicts = panel_verdicts(evidence)
    assert set(verdicts) == {"1w", "1m", "3m", "6m"}
    # a member or a blend of members (`combine.final.BLEND`), every part one ZL runs
    assert all(set(v.member.split(BLEND)) <= set(registry()) for v in verdicts.values())
    assert all(v.calibration in ("none", "scale") for v in verdicts.values())
    assert evidence["generated_by"].str.startswith("cbi panel --start").all()
    assert (evidence["roots"] >= 20).all() and (evidence["pooled_skill_se"] > 0).all()
    # a served member other than rw_ewma passed its own critical value
    earned = evidence[evidence["served_member"] != "rw_ewma"]
    assert (earned["pooled_skill"] < 1 - earned["critical_value"] * earned["pooled_skill_se"]).all()


def test_production_final_predictions_serve_the_committed_verdict():
    """`combine.layers.final_predictions` (what `ml_final_predictions` runs) with the seed frame: at 1m the panel
    served a blend of range_har and rw_ewma, so ZL's final rows are the average of ZL's range_har and rw_ewma
    quantiles unless a ZL candidate earned more; without the evidence they come from rw_ewma."""
    from scipy.stats import norm

    from cbi_ml.combine.ensemble import ensemble_weights
    from cbi_ml.combine.layers import final_predictions

    evidence = pd.read_csv(SEED_FILE)
    served = evidence.set_index("horizon").loc["1m", "served_member"]
    rng = np.random.default_rng(11)
    days, block = 21, 252
    n = 3 * block + 1
    dates = pd.bdate_range("2020-01-01", periods=n)
    folds = np.append(np.repeat([0, 1, 2], block), -1)
    scale = np.full(n, 0.05)
    y = np.append(rng.normal(0, scale[:-1]), np.nan)
    z = norm.ppf([0.1, 0.5, 0.9])
    frames = []
    parts = [p for p in served.split(BLEND) if p != "rw_ewma"]
    for member, width in (("rw_ewma", 1.0), *((p, 1.02) for p in parts), ("har", 0.97)):
        q = np.outer(scale * width, z)
        frames.append(
            pd.DataFrame(
                {
                    "as_of_date": dates,
                    "horizon": "1m",
                    "horizon_days": days,
                    "member": member,
                    "fold": folds,
                    "q10": q[:, 0],
                    "q50": q[:, 1],
                    "q90": q[:, 2],
                    "y": y,
                    "scale": scale,
                }
            )  # fmt: skip
        )
    predictions = pd.concat(frames, ignore_index=True)
    positions = pd.Series(np.arange(n), index=dates)
    weights = ensemble_weights(predictions, rounds=10)
    out = final_predictions(predictions, weights, positions, 252, 10, evidence)
    final = out[out["member"] == "final"]
    assert (final["source"] == served).all(), final["source"].value_counts()
    width = (final["q90"] - final["q50"]).to_numpy() / (scale * z[2])
    np.testing.assert_allclose(width, np.mean([1.0 if p == "rw_ewma" else 1.02 for p in served.split(BLEND)]))
    out = final_predictions(predictions, weights, positions, 252, 10)
    assert (out.loc[out["member"] == "final", "source"] == "rw_ewma").all()
