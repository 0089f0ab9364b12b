"""L2.5: greedy forward selection with replacement over L0 members and the stacker, per horizon and quantile."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import weights

    settings = dbt.config.meta_get("cbi_vars")  # the ML vars, set once for ml/ in dbt_project.yml
    return weights(dbt.ref("l0_predictions").df(), dbt.ref("ml_stacker").df(), settings)
