"""The weighted ensemble, its conformally calibrated version and the final forecast (the simplest model that
earned its place on earlier folds), out-of-fold and for the latest as_of_date."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.entry import final

    settings = {"cbi_ml": dbt.config.get("cbi_ml"), "cbi_horizons": dbt.config.get("cbi_horizons")}
    return final(
        dbt.ref("bucket_predictions").df(),
        dbt.ref("ml_stacker").df(),
        dbt.ref("ensemble_weights").df(),
        dbt.ref("daily_ml_matrix_zl").df(),
        settings,
    )
