"""L0 member `spec_energy`: out-of-fold (walk-forward, purged) and latest quantile forecasts for every horizon.

Thin dbt node; the logic is `cbi_ml.members.run.run_member`.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import member

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    matrix = dbt.ref("daily_ml_matrix_zl").df()
    catalog = dbt.ref("feature_catalog").df()
    return member("spec_energy", settings, matrix, catalog)
