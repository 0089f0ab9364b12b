"""L3 Monte Carlo risk for the latest forecast: VaR and CVaR at 95%/99% from split-t draws per horizon."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import risk

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    return risk(dbt.ref("zl_predictions").df(), settings, keep_scenarios=False)
