"""Training audit: one JSON line per model fit as it ends, in `<artifacts_dir>/training_runs.jsonl`.

A fit runs inside the dbt process, which holds the warehouse, so rows cannot go to the database as they
happen: the file is the live progress (`tail -f`), the orchestration shows each line in its run log while the
build runs and copies them into `ops.training_runs` when it ends (`orchestration.ops_tables.store_training_log`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
LOG_NAME = "training_runs.jsonl"


@dataclass
class FitRecord:
    run_id: str
    member: str
    horizon: str
    fold: int
    rows: int
    seconds: float = float("nan")
    validation_loss: float | None = None
    best_model: str | None = None
    budget: str = ""
    finished_at: str = ""
    status: str = "ok"


_current: contextvars.ContextVar[FitRecord | None] = contextvars.ContextVar("cbi_fit", default=None)


def log_file(artifacts_dir: str | Path) -> Path:
    return Path(artifacts_dir) / LOG_NAME


def budget_label(cfg: Any) -> str:
    return f"{cfg.preset},{cfg.time_limit_s}s,{'+'.join(cfg.model_families)},{cfg.oof_folds}x{cfg.oof_block}"


@contextmanager
def fit(cfg: Any, run_id: str, member: str, horizon: str, fold: int, rows: int) -> Iterator[FitRecord]:
    """Time the fit inside the block and append its record (status `failed` if the block raises)."""
    record = FitRecord(run_id, member, horizon, int(fold), int(rows), budget=budget_label(cfg))
    token = _current.set(record)
    started = time.perf_counter()
    try:
        yield record
    except BaseException:
        record.status = "failed"
        raise
    finally:
        _current.reset(token)
        record.seconds = round(time.perf_counter() - started, 3)
        record.finished_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        _append(log_file(cfg.artifacts_dir), record)


def fit_finished(predictor: Any) -> None:
    """Note the fitted predictor's best model and validation loss on the record of the fit in progress."""
    record = _current.get()
    if record is None:
        return
    try:
        record.best_model = str(predictor.model_best)
        board = predictor.leaderboard(silent=True)
        # AutoGluon reports scores higher-is-better: the validation pinball loss is minus the best score
        record.validation_loss = float(-board["score_val"].max())
    except Exception as exc:  # the audit never breaks a fit
        log.debug("no leaderboard for %s %s: %s", record.member, record.horizon, exc)


def _append(path: Path, record: FitRecord) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(json.dumps(asdict(record)) + "\n")
    except OSError as exc:
        log.warning("could not record the fit in %s: %s", path, exc)
