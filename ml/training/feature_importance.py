"""Permutation importance of each tabular member's last out-of-fold predictor on the rows it never saw."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import feature_importance

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    return feature_importance(
        dbt.ref("l0_predictions").df(),
        dbt.ref("daily_ml_matrix_zl").df(),
        dbt.ref("feature_catalog").df(),
        settings,
    )
