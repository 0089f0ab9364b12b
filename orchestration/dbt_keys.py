"""How dbt nodes become Dagster assets and checks: keys and groups (the `dagster-dbt` translator). Light on
purpose: `orchestration.build_record` maps a plain `dbt build`'s results onto the same keys without loading the
Definitions (which parse the dbt project)."""

from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


def dbt_group(props: dict[str, Any]) -> str:
    """The Dagster group of a dbt node, named for the step of the flow it belongs to: seeds are `reference`
    (their schema), the public tables `forecasts` (though tagged ml), the other ML nodes `ml`, models their
    folder (`staging`, `intermediate`, `features`); a group declared in a model's YAML wins."""
    declared = ((props.get("config") or {}).get("meta") or {}).get("dagster", {}).get("group")
    if declared:  # `meta: {dagster: {group: ...}}` in the model's YAML (the risk layer)
        return declared
    fqn = props.get("fqn", [])
    if props.get("resource_type") == "seed":
        return "reference"
    if len(fqn) > 2 and fqn[1] == "forecasts":
        return "forecasts"
    if "ml" in props.get("tags", []):
        return "ml"
    return fqn[1] if len(fqn) > 2 else "reference"


class CbiTranslator(DagsterDbtTranslator):
    """dbt sources are the raw tables the ingest assets write (`raw/<table>`); groups follow the flow."""

    def get_asset_key(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props.get("identifier") or dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props):
        return dbt_group(dbt_resource_props)


TRANSLATOR = CbiTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
