"""One source of truth for the ML settings: what a dbt Python model in `ml/` reads is what `cbi backtest` and
the tests read, `--vars` and `env_var()` included."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DBT, PROJECT_DIR

from cbi_ml.config import MLConfig
from cbi_ml.evaluation.backtest_config import backtest_config, chosen_members
from cbi_ml.members.registry import daily_members
from cbi_ml.project import project_config

pytestmark = pytest.mark.dbt


def compiled_model_settings(tmp_path: Path, vars: dict, env: dict[str, str]) -> dict:
    """`dbt.config.meta_get("cbi_vars")` of l0_predictions as dbt compiles it into the model's code."""
    target = tmp_path / "target"
    cmd = [DBT, "--no-use-colors", "compile", "--select", "l0_predictions", "--target-path", str(target)]
    cmd += ["--log-path", str(tmp_path / "logs"), "--vars", json.dumps(vars)]
    run_env = {**os.environ, **env, "CBI_DUCKDB_PATH": str(tmp_path / "cbi.duckdb")}
    run_env["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, env=run_env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    code = (target / "compiled" / "cbi" / "ml" / "training" / "l0_predictions.py").read_text()
    line = next(x for x in code.splitlines() if x.startswith("meta_dict = "))
    return ast.literal_eval(line.removeprefix("meta_dict = "))["cbi_vars"]


def test_a_model_sees_a_vars_override_and_env_var_exactly_as_cbi_backtest_does(tmp_path, monkeypatch, ml_defaults):
    vars = {"cbi_ml": {"time_limit_s": 7, "oof_folds": 3}}
    env = {"CBI_CHRONOS_MODEL_PATH": str(tmp_path / "chronos-bolt-small")}
    in_model = MLConfig.from_dbt(compiled_model_settings(tmp_path, vars, env))
    # the override reached the model; every key it left out kept the project's value
    chronos = env["CBI_CHRONOS_MODEL_PATH"]
    assert in_model == replace(ml_defaults, time_limit_s=7, oof_folds=3, chronos_model_path=chronos)
    # `cbi backtest` (and anything else outside dbt) gets the same through dbt's parse, flags included
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert project_config(vars) == in_model
    assert backtest_config(json.dumps({"cbi_ml": {"oof_folds": 3}}), time_limit=7) == in_model


def test_backtest_members_come_from_the_registry(ml_defaults):
    every = chosen_members("all", ml_defaults)
    assert every == list(daily_members(ml_defaults.buckets))
    assert every[-len(ml_defaults.buckets) :] == [f"spec_{b}" for b in ml_defaults.buckets]
    assert chosen_members("spec_fx", ml_defaults) == ["spec_fx", "rw_empirical", "rw_ewma", "ag_timeseries"]
    with pytest.raises(SystemExit, match="spec_weather"):
        chosen_members("spec_weather", ml_defaults)
