"""The weighted ensemble, its conformally calibrated version and the final forecast (the panel's verdict per
horizon, `panel_evidence`, unless a ZL-specific candidate earned its place on earlier folds), out-of-fold and for
the latest as_of_date."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import final

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    return final(
        dbt.ref("l0_predictions").df(),
        dbt.ref("ml_stacker").df(),
        dbt.ref("ensemble_weights").df(),
        dbt.ref("daily_ml_matrix_zl").df(),
        settings,
        dbt.ref("panel_evidence").df(),
    )
