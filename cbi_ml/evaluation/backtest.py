"""Walk-forward backtest: replay history as if CBI had run every trading day, with the production code path.

For every refit date r (every `refit_every` trading days from `start`), each member is trained on the rows
whose h-day label was known at r (t + h < r: the purge) and predicts the rows from r until the next refit. The
stacker, the greedy ensemble and the calibration are then replayed on those out-of-sample predictions, each
learning only from earlier refits (`combine.layers.walk_forward_final`). Scores compare every layer with the random
walks on the same rows, with standard errors and Diebold-Mariano tests that count the overlap of h-day labels,
and the risk layer's 95%/99% VaR is backtested (`evaluation.scoreboard`).

Resumable: predictions are stored per refit under a run key (the inputs and settings); a re-run skips the
refits already stored.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cbi_ml.combine.layers import walk_forward_final
from cbi_ml.combine.stacking import stack_predictions
from cbi_ml.config import MLConfig
from cbi_ml.dataset import KEY, calendar_positions, labelled_index, prepare_matrix
from cbi_ml.distributed import Call, run_all
from cbi_ml.members.fitting import predict_block, prediction_rows
from cbi_ml.members.kinds import member_features
from cbi_ml.members.registry import BASELINES

log = logging.getLogger(__name__)
#: The combination layers the backtest adds to the members' rows, scores and stores (ml.backtest_predictions).
LAYERS = ("stack", "ensemble", "calibrated", "final")
#: The stored columns of a member's backtest predictions (members.kinds.OUTPUT_COLUMNS without the run metadata).
BACKTEST_COLUMNS = ["as_of_date", "horizon", "horizon_days", "member", "fold", "q10", "q50", "q90", "y", "scale"]


def run_key(cfg: MLConfig, members: list[str], start: str, end: str, refit_every: int, last_date: object) -> str:
    """The id of a backtest run: a hash of the settings, members, dates and the last date of the matrix."""
    payload = f"{cfg.fingerprint()}|{sorted(members)}|{start}|{end}|{refit_every}|{last_date}"
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def refit_positions(dates: pd.Series, start: str, end: str, refit_every: int) -> list[int]:
    """Row positions of the refit dates: every `refit_every`-th trading day from `start` to `end`."""
    inside = np.flatnonzero((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end)))
    return [int(p) for p in inside[::refit_every]]


def backtest_block(
    member: str,
    frame: pd.DataFrame,
    features: list[str],
    horizon: str,
    days: int,
    refit: int,
    train: np.ndarray,
    test: np.ndarray,
    cfg: MLConfig,
) -> pd.DataFrame:
    """One independent fit of the backtest: `member` trained on `train`, predicting `test` (runs anywhere: its
    scratch folder is its own and removed when it ends)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"cbi-backtest-{member}-{horizon}-{refit}-"))
    try:
        q = predict_block(member, frame, features, days, train, test, cfg, scratch / "model")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return prediction_rows(frame, horizon, days, member, refit, test, q)[BACKTEST_COLUMNS]


def backtest_calls(
    frame: pd.DataFrame,
    catalog: pd.DataFrame,
    cfg: MLConfig,
    members: list[str],
    refits: list[int],
    last: int,
    done: set[int],
) -> list[tuple[int, Call]]:
    """(refit, call) for every fit not yet done: refit x horizon x member, each trained on the labels known at
    the refit date (t + h < r) and predicting until the next refit."""
    features = {m: member_features(m, catalog, list(frame.columns)) for m in members if m not in BASELINES}
    calls: list[tuple[int, Call]] = []
    for k, r in enumerate(refits):
        if k in done:
            continue
        stop = refits[k + 1] if k + 1 < len(refits) else last + 1
        for horizon, days in cfg.horizons.items():
            labelled = labelled_index(frame, days)
            train = labelled[labelled + days < r]
            test = labelled[(labelled >= r) & (labelled < stop)]
            if len(train) < 250 or len(test) == 0:
                continue
            for member in members:
                args = (member, frame, features.get(member, []), horizon, days, k, train, test, cfg)
                calls.append((k, Call(backtest_block, args)))
    return calls


def replay_members(
    matrix: pd.DataFrame,
    catalog: pd.DataFrame,
    cfg: MLConfig,
    members: list[str],
    start: str,
    end: str,
    refit_every: int,
    done: set[int],
    store: Callable[[int, pd.DataFrame], None],
    ray_address: str | None = None,
) -> None:
    """Train and predict every member at every refit not in `done`; hand each refit's rows to `store` as soon as
    all its fits have finished. The fits run serially here, or as Ray tasks when `ray_address` is given; the
    stored rows are the same either way."""
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    dates = pd.to_datetime(frame[KEY])
    refits = refit_positions(dates, start, end, refit_every)
    last = int(np.flatnonzero(dates <= pd.Timestamp(end)).max())
    planned = backtest_calls(frame, catalog, cfg, members, refits, last, done)
    waiting = {k: sum(1 for kk, _ in planned if kk == k) for k in range(len(refits)) if k not in done}
    parts: dict[int, list[tuple[int, pd.DataFrame]]] = {k: [] for k in waiting}
    for k in [k for k, n in waiting.items() if n == 0]:  # nothing to predict: a marker row, so resume skips it
        store(k, pd.DataFrame())
    with tqdm(total=len(planned), desc="backtest fits", unit="fit", disable=None) as progress:
        for i, rows in run_all([call for _, call in planned], ray_address):
            k = planned[i][0]
            parts[k].append((i, rows))
            waiting[k] -= 1
            progress.update()
            if waiting[k] == 0:
                ordered = [rows for _, rows in sorted(parts.pop(k), key=lambda item: item[0])]
                store(k, pd.concat(ordered, ignore_index=True))


def combine_layers(l0: pd.DataFrame, matrix: pd.DataFrame, cfg: MLConfig) -> pd.DataFrame:
    """Add the stacker, the ensemble and the calibrated final forecast, each out of sample."""
    positions = calendar_positions(matrix)
    l0 = l0.assign(as_of_date=pd.to_datetime(l0["as_of_date"]))
    stacked = stack_predictions(l0, positions)
    both = pd.concat([l0, stacked], ignore_index=True)
    final = walk_forward_final(both, positions, cfg.ensemble_rounds, cfg.calibration_rows)
    return pd.concat([both, final], ignore_index=True)
