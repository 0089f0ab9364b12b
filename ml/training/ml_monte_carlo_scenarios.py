"""A sample of the Monte Carlo scenarios behind ml_risk (same seed, so the same draws)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.entry import risk

    settings = {"cbi_ml": dbt.config.get("cbi_ml"), "cbi_horizons": dbt.config.get("cbi_horizons")}
    return risk(dbt.ref("zl_predictions").df(), settings, keep_scenarios=True)
