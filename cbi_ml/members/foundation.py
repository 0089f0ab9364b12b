"""Opt-in foundation models: Chronos-Bolt in the time-series baseline, TabICL / TabPFN among tabular families.

None of them is on the default path: their weights live on a model hub this deployment may not reach. Each is
used only when the user points CBI at a local copy of the weights (and, for the tabular ones, installs the
`foundation` extra); otherwise it is skipped with one log line that says what to set. Nothing here downloads.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from cbi_ml.config import FOUNDATION_FAMILIES, MLConfig

log = logging.getLogger(__name__)

#: tabular family -> the Python package AutoGluon needs for it
FOUNDATION_PACKAGES = {"TABICL": "tabicl", "REALTABPFN-V2.5": "tabpfn"}
#: tabular family -> the regression checkpoint file pattern looked for in `foundation_weights_dir`
CHECKPOINT_PATTERNS = {"TABICL": "tabicl*regressor*.ckpt", "REALTABPFN-V2.5": "tabpfn*regressor*.ckpt"}
_already_said: set[str] = set()


def _say_once(key: str, message: str, *args: Any) -> None:
    if key not in _already_said:
        _already_said.add(key)
        log.info(message, *args)


def chronos_weights(path: str) -> Path | None:
    """The local Chronos-Bolt model directory if it holds a config and weights, else None."""
    if not path:
        return None
    folder = Path(path).expanduser()
    has_weights = any((folder / name).is_file() for name in ("model.safetensors", "pytorch_model.bin"))
    return folder if (folder / "config.json").is_file() and has_weights else None


def chronos_hyperparameters(cfg: MLConfig) -> dict[str, dict[str, Any]]:
    """`{"Chronos": {...}}` for the TimeSeriesPredictor when local Chronos-Bolt weights exist, else `{}`."""
    folder = chronos_weights(cfg.chronos_model_path)
    if folder is None:
        where = cfg.chronos_model_path or "(cbi_ml.chronos_model_path is empty)"
        _say_once(
            "chronos",
            "Chronos-Bolt skipped: no local weights at %s; set CBI_CHRONOS_MODEL_PATH to a downloaded "
            "chronos-bolt model directory (config.json + model.safetensors) to add it to the time-series baseline",
            where,
        )
        return {}
    _say_once("chronos", "Chronos-Bolt enabled from %s (zero-shot, CPU)", folder)
    return {"Chronos": {"model_path": str(folder), "device": "cpu", "batch_size": 64}}


def tabular_foundation_hyperparameters(cfg: MLConfig) -> dict[str, dict[str, Any]]:
    """Hyperparameters for the requested foundation tabular families that can run here (package installed and
    a checkpoint in `cfg.foundation_weights_dir`); the others are skipped with one log line each."""
    out: dict[str, dict[str, Any]] = {}
    for family in (f for f in cfg.model_families if f in FOUNDATION_FAMILIES):
        package = FOUNDATION_PACKAGES[family]
        if importlib.util.find_spec(package) is None:
            _say_once(
                family, "%s skipped: package %r is not installed (pip install -e '.[foundation]')", family, package
            )
            continue
        folder = Path(cfg.foundation_weights_dir).expanduser() if cfg.foundation_weights_dir else None
        pattern = CHECKPOINT_PATTERNS[family]
        checkpoints = sorted(folder.glob(pattern)) if folder and folder.is_dir() else []
        if not checkpoints:
            _say_once(
                family,
                "%s skipped: no %s checkpoint in %s; set cbi_ml.foundation_weights_dir to a local copy of its weights",
                family,
                pattern,
                cfg.foundation_weights_dir or "(cbi_ml.foundation_weights_dir is empty)",
            )
            continue
        out[family] = {"model_path": str(checkpoints[0])}
    return out
