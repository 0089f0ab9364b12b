"""A sample of the Monte Carlo scenarios behind ml_risk (same seed, so the same draws)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import risk

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    return risk(dbt.ref("zl_predictions").df(), settings, keep_scenarios=True)
