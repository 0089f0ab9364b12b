"""AutoGluon's leaderboard of every saved predictor (the final fits of the tabular members)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.nodes import leaderboard

    return leaderboard(dbt.ref("l0_predictions").df())
