"""Every L0 member's predictions in one table: out-of-fold rows (walk-forward, purged; fold >= 0, with the
realised target y) and the latest forecast (fold = -1) of each member the daily build runs.

Which members run is the member registry (`cbi_ml.members.registry`); the matrix and the catalog are loaded once for
all of them. Thin dbt node; the logic is `cbi_ml.nodes.l0_predictions`.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import l0_predictions

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    matrix = dbt.ref("daily_ml_matrix_zl").df()
    catalog = dbt.ref("feature_catalog").df()
    return l0_predictions(settings, matrix, catalog, echo=True)  # a line per member in dbt's output
