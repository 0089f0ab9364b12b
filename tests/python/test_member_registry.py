"""The one member registry (`cbi_ml.members.registry`): what reads it agrees with it, the panel's price-only members
and ZL's follow one protocol with the same numbers, and the dbt layer has one node for every member (no SQL,
YAML or file name lists them)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from panel_sim import synthetic_bars

from cbi_ml.dataset import labelled_index
from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS
from cbi_ml.members.fitting import predict_block
from cbi_ml.members.registry import (
    BASELINES,
    MEMBERS,
    Baseline,
    build,
    daily_members,
    member_kind,
    trained_members,
)
from cbi_ml.panel import members as panel_members
from cbi_ml.panel.prices import price_frame

ROOT = Path(__file__).resolve().parents[2]
BUCKETS = ("crush", "fx")


def test_daily_members_follow_the_registry_with_one_specialist_per_bucket_after_main():
    daily = daily_members(BUCKETS)
    names = list(daily)
    assert names == [
        *(m for m in list(MEMBERS)[: names.index("main") + 1] if MEMBERS[m].daily),
        "spec_crush",
        "spec_fx",
    ]
    assert all(daily[m] == MEMBERS[m].kind for m in daily if m in MEMBERS)
    assert not any(MEMBERS[m].daily for m in MEMBERS if m not in daily)
    assert trained_members(BUCKETS) == ["ag_timeseries", "main", "spec_crush", "spec_fx"]
    assert member_kind("spec_weather") == "tabular"  # a bucket specialist is tabular whatever the bucket
    with pytest.raises(ValueError, match="unknown member 'prophet'"):
        member_kind("prophet")


def test_every_panel_member_is_a_registered_baseline():
    assert all(member_kind(name) == "baseline" for name in panel_members.registry())


def test_every_implemented_baseline_is_registered():
    """The registry's baselines are exactly what `BaselineFit` implements: the random walks, HAR and every
    distribution member."""
    assert set(BASELINES) == {"rw_empirical", "rw_ewma", "har", *DISTRIBUTION_MEMBERS}


def test_a_trained_member_needs_a_place_for_its_predictor():
    with pytest.raises(ValueError, match="needs a path"):
        build("main", ["x"], cfg=None)
    assert isinstance(build("har", [], cfg=None), Baseline)


#: The panel's GARCH is fitted on the daily returns up to the last training target's end (h more days, all known
#: before the first purged test row); ZL's `distribution.garch_variance` stops at the last training row.
GARCH_FIT_ENDS_DIFFER = ("garch_t", "vol_avg")


@pytest.mark.parametrize("name", sorted(set(panel_members.registry()) - set(GARCH_FIT_ENDS_DIFFER)))
def test_the_panel_members_are_registered_and_give_the_zl_numbers(name):
    """A panel member (price-only, same protocol) is a registered baseline, and fitted on the same rows gives the
    same quantiles as ZL's fit of it (`fitting.predict_block`, what `l0_predictions` and the backtest run), except
    where the GARCH fit ends differ (`GARCH_FIT_ENDS_DIFFER`)."""
    assert member_kind(name) == "baseline"
    frame = price_frame(synthetic_bars(roots=1), {"1m": 21}, 0.94)
    labelled = labelled_index(frame, 21)
    train, test = labelled[:1500], labelled[1521:1700]
    ours = predict_block(name, frame, [], 21, train, test, cfg=None, path=Path("unused"))
    theirs = panel_members.registry()[name].fit(frame, 21, train).predict(test)
    np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-15, err_msg=name)


def test_one_dbt_node_runs_every_member_and_its_docs_list_the_registry():
    training = ROOT / "ml" / "training"
    assert not list(training.glob("ml_l0_*")), "members run in the one node l0_predictions.py"
    assert "l0_predictions(" in (training / "l0_predictions.py").read_text()
    docs = (training / "_training__docs.md").read_text()
    block = docs[docs.index("{% docs l0_members %}") : docs.index("{% enddocs %}", docs.index("{% docs l0_members"))]
    listed = re.findall(r"^\| `([a-z_<>]+)` \| (\w+) \|", block, flags=re.M)
    assert listed == list(daily_members(["<bucket>"]).items())
