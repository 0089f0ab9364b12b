"""The weekly job's champion/challenger gate: retrained models serve only if not worse than the serving ones."""

import json

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, ResourceParam, asset
from dagster_dbt import DbtCliResource

from cbi_core.lock import LockInfo
from orchestration import retrain
from orchestration.alerts import Alerter
from orchestration.assets.dbt import (
    CHAMPIONS_FILE,
    DbtBuildConfig,
    artifacts_dir,
    dbt_key,
    dbt_vars,
    forecast_horizons,
    raise_on_failures,
)
from orchestration.config import THRESHOLDS
from orchestration.resources import Warehouse


@asset(
    key=AssetKey(["ml", "serving_models"]),
    group_name="ml",
    deps=[dbt_key("l0_predictions")],  # every member runs in that one node
    description="The champion/challenger gate: new models serve only if not worse than the serving ones.",
)
def champion_challenger_gate(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    artifacts = artifacts_dir(config.artifacts_dir)
    champions_file = artifacts / CHAMPIONS_FILE
    if not champions_file.exists():
        return MaterializeResult(metadata={"decision": "no retrain in this run: nothing to decide"})
    from cbi_ml.members.artifacts import MemberState

    before = {m: (MemberState.from_json(s) if s else None) for m, s in json.loads(champions_file.read_text()).items()}
    decisions = retrain.decide(artifacts, before, forecast_horizons(), THRESHOLDS.retrain_noise_se)
    champions_file.unlink()
    rejected = [d for d in decisions if not d.promote and d.champion and d.challenger and d.champion != d.challenger]
    if rejected:
        alerter(
            "retrain_rejected",
            f"{len(rejected)} retrained member(s) rejected; their serving models keep serving",
            "\n".join(f"{d.member}: {d.reason}" for d in rejected),
        )
        rescore = DbtBuildConfig(retrain="never", artifacts_dir=config.artifacts_dir)
        invocation = dbt.cli(["build", "--select", "tag:ml", "--vars", dbt_vars(rescore)], raise_on_error=False).wait()
        raise_on_failures(invocation.get_artifact("run_results.json"))
        context.log.info("ML layer re-scored with the serving models")
    return MaterializeResult(
        metadata={
            "promoted": ", ".join(d.member for d in decisions if d.promote) or "-",
            "kept": ", ".join(d.member for d in rejected) or "-",
            "decisions": json.dumps([d.__dict__ for d in decisions], default=str),
        }
    )
