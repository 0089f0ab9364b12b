"""L3 Monte Carlo risk for the latest forecast: VaR and CVaR at 95%/99% from split-t draws per horizon."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.entry import risk

    settings = {"cbi_ml": dbt.config.get("cbi_ml"), "cbi_horizons": dbt.config.get("cbi_horizons")}
    return risk(dbt.ref("zl_predictions").df(), settings, keep_scenarios=False)
