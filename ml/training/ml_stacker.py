"""L1 stacking on the L0 out-of-fold predictions (walk-forward), one quantile regression per horizon and level."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import stack

    l0 = dbt.ref("l0_predictions").df()
    matrix = dbt.ref("daily_ml_matrix_zl").df()
    return stack(l0, matrix)
