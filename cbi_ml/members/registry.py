"""The one registry of ZL's L0 members and the protocol every member follows.

A member is fitted and then predicts, as statsforecast's models: `member.fit(frame, days, train)` on the
labelled, purged training rows of the prepared matrix (`dataset.prepare_matrix`) returns a `Fitted` whose
`predict(rows)` gives the (len(rows), 3) quantiles q10, q50, q90 of the h-day log return at any rows. The price-only
members of `cbi_ml.panel.members` follow the same protocol (it is defined here, once).

`MEMBERS` is the registry: every member implemented here, in `l0_predictions` order, its kind (`baseline`: nothing
saved, cheap; `timeseries`, `tabular`: an AutoGluon predictor is trained and saved) and whether the daily dbt build
runs it. The bucket specialists `spec_<bucket>` (tabular: the core features plus the bucket's) come from the
`cbi_buckets` var, the one home of the buckets. Everything else reads this: the dbt node `l0_predictions`
(`cbi_ml.nodes.l0_predictions` runs `daily_members`), `MLConfig.members`, the fitting (`build`), freshness,
the backtest's `--members`, orchestration's trained members (the weekly champion/challenger gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from cbi_ml.dataset import RETURN_COLUMN, VOL_COLUMN, horizon_scale, labelled_rows, purged_split

Kind = Literal["baseline", "timeseries", "tabular"]
#: Kinds of L0 member; every bucket specialist `spec_<bucket>` is tabular.
MEMBER_KINDS: tuple[Kind, ...] = ("baseline", "timeseries", "tabular")
SPECIALIST_PREFIX = "spec_"


class Fitted(Protocol):
    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 3) quantiles q10, q50, q90 of the h-day log return."""
        ...


class Member(Protocol):
    name: str

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        """The member fitted on the labelled rows `train` of `frame` for h = `days`."""
        ...


@dataclass(frozen=True)
class MemberSpec:
    """One registered member: its kind, whether the daily build runs it, and what it is (dbt docs, docs/)."""

    name: str
    kind: Kind
    daily: bool
    summary: str


#: Every member implemented here, in `l0_predictions` order (the specialists follow `main`, one per bucket).
MEMBERS: dict[str, MemberSpec] = {
    s.name: s
    for s in (
        MemberSpec(
            "rw_empirical",
            "baseline",
            True,
            "random walk, the 10/50/90% quantiles of the h-day log returns of the trailing 756 days",
        ),
        MemberSpec("rw_ewma", "baseline", True, "random walk, EWMA (0.94) volatility, zero-mean normal quantiles"),
        MemberSpec(
            "har",
            "baseline",
            True,
            "HAR-RV (OLS of the next h days' mean squared return on 1/5/22-day realised variance, refitted per "
            "fold), normal quantiles",
        ),
        MemberSpec(
            "range_ewma",
            "baseline",
            True,
            "EWMA of the daily range-based variance (overnight gap + Garman-Klass), FHS quantiles",
        ),
        MemberSpec(
            "range_har",
            "baseline",
            True,
            "log-HAR on range-based variance over 1/5/22/63/252 days, refitted per fold, FHS quantiles",
        ),
        MemberSpec(
            "vol_avg",
            "baseline",
            True,
            "equal-weight average of the h-day volatilities of range_ewma, range_har and garch_t, FHS quantiles",
        ),
        MemberSpec(
            "ag_timeseries",
            "timeseries",
            True,
            "AutoGluon TimeSeriesPredictor on the ZL log-price path (ETS, Theta, RecursiveTabular with the bucket "
            "scores as covariates lagged by h days, their weighted ensemble; Chronos-Bolt with local weights)",
        ),
        MemberSpec(
            "main",
            "tabular",
            True,
            "AutoGluon TabularPredictor(problem_type='quantile') on every feature, volatility-scaled target",
        ),
        MemberSpec("fhs_ewma", "baseline", False, "rw_ewma's volatility with FHS quantiles (backtest only)"),
        MemberSpec("garch_t", "baseline", False, "GJR-GARCH(1,1)-skew-t, FHS quantiles (backtest only)"),
        MemberSpec(
            "vol_mix", "baseline", False, "range_har plus season and stress drivers, FHS quantiles (backtest only)"
        ),
        MemberSpec(
            "vol_biofuel", "baseline", False, "range_har plus the biofuel-policy inputs, FHS quantiles (backtest only)"
        ),
    )
}
#: Cheap members without saved predictors (random walks, HAR, `members.distribution`).
BASELINES = tuple(name for name, spec in MEMBERS.items() if spec.kind == "baseline")
TIMESERIES = "ag_timeseries"  # AutoGluon TimeSeriesPredictor on the price path (cbi_ml.members.timeseries)


def specialist(bucket: str) -> str:
    return f"{SPECIALIST_PREFIX}{bucket}"


def daily_members(buckets: tuple[str, ...] | list[str]) -> dict[str, Kind]:
    """The members the daily build runs, name -> kind, in `l0_predictions` order: the registry's daily ones, the
    bucket specialists (one per `cbi_buckets` entry) after `main`."""
    daily: dict[str, Kind] = {}
    for name, spec in MEMBERS.items():
        if spec.daily:
            daily[name] = spec.kind
        if name == "main":
            daily.update({specialist(b): "tabular" for b in buckets})
    return daily


def trained_members(buckets: tuple[str, ...] | list[str]) -> list[str]:
    """The daily members with saved predictors (what the weekly retrain's champion/challenger gate judges)."""
    return sorted(name for name, kind in daily_members(buckets).items() if kind != "baseline")


def member_kind(name: str) -> Kind:
    """How `name` is implemented: 'baseline' (no saved predictor), 'timeseries' or 'tabular'."""
    if name in MEMBERS:
        return MEMBERS[name].kind
    if name.startswith(SPECIALIST_PREFIX):
        return "tabular"
    raise ValueError(f"unknown member {name!r}: not in cbi_ml.members.registry.MEMBERS nor a spec_<bucket>")


def summary(name: str) -> str:
    """What a member is, in a line (specialists: from their bucket)."""
    if name in MEMBERS:
        return MEMBERS[name].summary
    bucket = name.removeprefix(SPECIALIST_PREFIX)
    return f"bucket specialist: AutoGluon quantile predictor on the core features plus the {bucket} bucket"


# --- implementations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineFit:
    """A baseline fitted on `train`: its quantiles at any rows are computed from values known at each row."""

    name: str
    frame: pd.DataFrame
    days: int
    train: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        from cbi_ml.members.baselines import fit_har, har_quantiles, rw_empirical, rw_ewma
        from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS, distribution_quantiles

        returns = self.frame[RETURN_COLUMN]
        if self.name == "rw_empirical":
            return rw_empirical(returns, self.days)[rows]
        if self.name == "rw_ewma":
            return rw_ewma(self.frame[VOL_COLUMN], self.days)[rows]
        if self.name in DISTRIBUTION_MEMBERS:
            return distribution_quantiles(self.name, self.frame, self.days, self.train, rows)
        coef = fit_har(returns, self.days, self.train)
        return har_quantiles(returns, self.days, coef, rows, floor_vol=self.frame[VOL_COLUMN])


@dataclass(frozen=True)
class Baseline:
    """A member without a saved predictor (random walks, HAR, the distribution members)."""

    name: str

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        return BaselineFit(self.name, frame, days, train)


@dataclass(frozen=True)
class TabularFit:
    """A fitted (or loaded) TabularPredictor: it predicts the volatility-scaled return, scaled back here."""

    predictor: Any
    frame: pd.DataFrame
    features: list[str]
    days: int

    def predict(self, rows: np.ndarray) -> np.ndarray:
        scaled = self.predictor.predict(self.frame.loc[rows, self.features]).to_numpy()
        return scaled * horizon_scale(self.frame, self.days).to_numpy()[rows, None]


@dataclass(frozen=True)
class Tabular:
    """`main` and the bucket specialists: an AutoGluon quantile TabularPredictor on `features`, saved at `path`."""

    name: str
    features: list[str]
    cfg: Any  # MLConfig
    path: Path

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> TabularFit:
        from cbi_ml.members.tabular import fit_quantile_predictor

        data = labelled_rows(frame, days, self.features, train)
        fit_rows, tune_rows = purged_split(data, days, self.cfg.tuning_fraction)
        return TabularFit(fit_quantile_predictor(fit_rows, tune_rows, self.cfg, self.path), frame, self.features, days)

    def load(self, frame: pd.DataFrame, days: int) -> TabularFit:
        return TabularFit(load_predictor(self.name, str(self.path)), frame, self.features, days)


@dataclass(frozen=True)
class TimeSeriesFit:
    predictor: Any
    frame: pd.DataFrame
    days: int
    cfg: Any  # MLConfig

    def predict(self, rows: np.ndarray) -> np.ndarray:
        from cbi_ml.members.timeseries import predict_rows

        return predict_rows(self.predictor, self.frame, self.days, rows, self.cfg)


@dataclass(frozen=True)
class TimeSeries:
    """`ag_timeseries`: an AutoGluon TimeSeriesPredictor on the price path up to the last training target, saved
    at `path`."""

    name: str
    cfg: Any  # MLConfig
    path: Path

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> TimeSeriesFit:
        from cbi_ml.members.timeseries import fit_on_rows

        return TimeSeriesFit(fit_on_rows(frame, days, train, self.cfg, self.path), frame, days, self.cfg)

    def load(self, frame: pd.DataFrame, days: int) -> TimeSeriesFit:
        return TimeSeriesFit(load_predictor(self.name, str(self.path)), frame, days, self.cfg)


def build(name: str, features: list[str], cfg: Any, path: Path | None = None) -> Baseline | Tabular | TimeSeries:
    """The registered member `name`, ready to fit: a trained member (tabular, time series) saves its predictor at
    `path` and trains on `features` (`kinds.member_features`)."""
    kind = member_kind(name)
    if kind == "baseline":
        return Baseline(name)
    if path is None:
        raise ValueError(f"{name} is {kind}: it needs a path to save its predictor at")
    return TimeSeries(name, cfg, path) if kind == "timeseries" else Tabular(name, features, cfg, path)


def load_predictor(member: str, path: str) -> Any:
    """A saved predictor of a trained member (TimeSeriesPredictor or TabularPredictor)."""
    if member_kind(member) == "timeseries":
        from autogluon.timeseries import TimeSeriesPredictor

        return TimeSeriesPredictor.load(path, require_version_match=False)
    from autogluon.tabular import TabularPredictor

    return TabularPredictor.load(path, require_py_version_match=False)
