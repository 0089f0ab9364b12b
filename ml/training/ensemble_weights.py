"""L2.5: greedy forward selection with replacement over L0 members and the stacker, per horizon and quantile."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.entry import weights

    settings = {"cbi_ml": dbt.config.get("cbi_ml"), "cbi_horizons": dbt.config.get("cbi_horizons")}
    return weights(dbt.ref("bucket_predictions").df(), dbt.ref("ml_stacker").df(), settings)
