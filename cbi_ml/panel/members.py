"""Price-only members for the panel, behind the members' one protocol (`cbi_ml.members.registry.Member`, as
statsforecast's models): `fit` on a price frame (`panel.prices`, the ZL matrix's column names) and the training rows,
then `predict` the 10/50/90% quantiles of the h-day log return at any rows. `registry()` maps names to the member
functions (`members.baselines`, `members.distribution`) with a GARCH fit cache per root; the names are those of
ZL's registry (`cbi_ml.members.registry.MEMBERS`, checked by a test), which runs the same functions per fold.

Every fit uses only the training rows the caller passes (labelled, purged) and values known at each predicted
row: the EWMA and range recursions run forward, regressions and GARCH parameters come from `train` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cbi_ml.dataset import RETURN_COLUMN, VOL_COLUMN, target_column
from cbi_ml.members import baselines, distribution
from cbi_ml.members.registry import Fitted, Member

Variance = Callable[[pd.DataFrame, int, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class QuantileTable:
    """Quantiles known at every row of the frame (random walks, HAR): predict slices them."""

    quantiles: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.quantiles[rows]


@dataclass(frozen=True)
class RwEwma:
    """`rw_ewma`: zero-mean normal quantiles with the EWMA volatility (nothing learned)."""

    name: str = "rw_ewma"

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        return QuantileTable(baselines.rw_ewma(frame[VOL_COLUMN], days))


@dataclass(frozen=True)
class RwEmpirical:
    """`rw_empirical`: trailing empirical quantiles of past h-day returns (nothing learned)."""

    name: str = "rw_empirical"

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        return QuantileTable(baselines.rw_empirical(frame[RETURN_COLUMN], days))


@dataclass(frozen=True)
class Har:
    """`har`: the linear HAR regression of future mean variance, normal quantiles."""

    name: str = "har"

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        coef = baselines.fit_har(frame[RETURN_COLUMN], days, train)
        rows = np.arange(len(frame))
        return QuantileTable(baselines.har_quantiles(frame[RETURN_COLUMN], days, coef, rows, frame[VOL_COLUMN]))


@dataclass(frozen=True)
class ScaleForecast:
    """Symmetric FHS quantiles: -m s, 0, m s with the member's h-day volatility s and multiplier m."""

    scale: np.ndarray
    multiplier: float

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return distribution.fhs_quantiles(self.scale[rows], self.multiplier)


@dataclass(frozen=True)
class FhsMember:
    """A distribution member: an h-day variance forecast turned into quantiles by filtered historical simulation
    (the multiplier is the 80% quantile of the training rows' |return / volatility|; rows without a variance
    forecast fall back to the EWMA volatility), as `members.distribution.distribution_quantiles`."""

    name: str
    variance: Variance

    def fit(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> Fitted:
        variance = self.variance(frame, days, train)
        fallback = frame[VOL_COLUMN].to_numpy(dtype=float) ** 2 * days
        scale = np.sqrt(np.where(np.isfinite(variance) & (variance > 0), variance, fallback))
        y = frame[target_column(days)].to_numpy(dtype=float)
        return ScaleForecast(scale, distribution.fhs_multiplier(y[train], scale[train]))


@dataclass
class GarchVariance:
    """GJR-GARCH(1,1)-skew-t h-day variance (`distribution.garch_path`), the `arch` fits of the current root kept per
    training cut, so that the horizons of one refit share one maximum-likelihood fit."""

    fits: dict[tuple[int, int, int], distribution.GarchPath] = field(default_factory=dict)

    def __call__(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
        # the last daily return known before the refit: that of the last training target's end date
        key = (id(frame), len(frame), int(train.max()) + days)
        if key not in self.fits:
            if any(k[:2] != key[:2] for k in self.fits):
                self.fits.clear()  # another root: its fits are done
            self.fits[key] = distribution.garch_path(frame[RETURN_COLUMN], np.array([key[2]]))
        return self.fits[key].h_day_variance(days)


def _range_ewma(frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
    return distribution.variance_forecast("range_ewma", frame, days, train)


def _range_har(frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
    return distribution.variance_forecast("range_har", frame, days, train)


def _fhs_ewma(frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
    return distribution.variance_forecast("fhs_ewma", frame, days, train)


@dataclass(frozen=True)
class AverageVariance:
    """`vol_avg`: the equal-weight average of the h-day volatilities of several variance forecasts."""

    parts: tuple[Variance, ...]

    def __call__(self, frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
        return np.mean([np.sqrt(part(frame, days, train)) for part in self.parts], axis=0) ** 2


def registry() -> dict[str, Member]:
    """Every price-only member by name (a fresh set: the GARCH fit cache is per registry)."""
    garch = GarchVariance()
    members: list[Member] = [
        RwEwma(),
        RwEmpirical(),
        Har(),
        FhsMember("fhs_ewma", _fhs_ewma),
        FhsMember("range_ewma", _range_ewma),
        FhsMember("range_har", _range_har),
        FhsMember("garch_t", garch),
        FhsMember("vol_avg", AverageVariance((_range_ewma, _range_har, garch))),
    ]
    return {m.name: m for m in members}


#: The members `cbi panel` runs unless told otherwise (garch_t is the slow one: one `arch` fit per root and refit).
PANEL_MEMBERS = ("rw_ewma", "rw_empirical", "har", "fhs_ewma", "range_ewma", "range_har", "garch_t", "vol_avg")
