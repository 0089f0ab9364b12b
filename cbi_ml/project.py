"""The project's ML vars as dbt itself renders them, for code that runs outside a dbt model (`cbi backtest`, the
orchestration, the tests).

A dbt Python model in `ml/` reads `dbt.config.meta_get("cbi_vars")`, set once for the whole folder in
dbt_project.yml. Everything else parses the project with dbt's programmatic API (`dbtRunner`) and reads the same
`cbi_vars` from the parsed manifest, so `--vars` and `env_var()` mean the same in both places: no second reader of
dbt_project.yml, no hand-made Jinja.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cbi_core import settings
from cbi_ml.config import MLConfig

log = logging.getLogger(__name__)

#: The meta key of the `ml/training` folder config that carries the vars (dbt_project.yml).
META_KEY = "cbi_vars"


def project_vars(vars: Mapping[str, Any] | None = None, project_dir: Path | None = None) -> dict[str, Any]:
    """`cbi_vars` of the `ml/training` models after `dbt parse --vars <vars>` of the project: what every dbt Python
    model there reads. The parse writes its artefacts to `target/cbi_settings` (its own partial-parse state)."""
    from dbt.cli.main import dbtRunner

    root = settings.project_dir(project_dir)
    target = root / "target" / "cbi_settings"
    args = [
        "parse",
        "--quiet",
        "--project-dir",
        str(root),
        "--profiles-dir",
        os.environ.get("DBT_PROFILES_DIR", str(root)),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
        "--vars",
        json.dumps(dict(vars or {})),
    ]
    log.info("reading the ML vars from dbt's parse of %s", root)
    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt parse of {root} failed: {result.exception}")
    found = [node.config.meta[META_KEY] for node in result.result.nodes.values() if META_KEY in node.config.meta]
    if not found:
        raise RuntimeError(f"no model in {root} carries meta.{META_KEY}: see models.cbi.training in dbt_project.yml")
    return found[0]


def project_config(vars: Mapping[str, Any] | None = None, project_dir: Path | None = None) -> MLConfig:
    """The `MLConfig` a dbt build with the same `--vars` (and environment) gives its Python models."""
    return MLConfig.from_dbt(project_vars(vars, project_dir))
