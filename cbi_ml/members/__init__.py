"""The L0 members and their fitting.

- `registry`: the one registry of members (name, kind, daily or not) and the `Member` protocol they follow (`fit`
  then `predict`, as statsforecast's models; the panel's price-only members too), with the implementations
  `build` returns;
- `kinds`: the output columns every member writes and the features a tabular member trains on;
- `run`: `run_member`, a member's training run (walk-forward out-of-fold fits and the final fit) or its scoring
  with the saved predictors;
- `fitting`: one fit and its predictions, shared by production and the backtest;
- `baselines` (random walks, HAR), `distribution` (range/GARCH volatility members), `tabular` (AutoGluon
  `TabularPredictor`), `timeseries` (AutoGluon `TimeSeriesPredictor`), `foundation` (optional foundation models);
- `artifacts`: saved-model state (when to retrain, which run serves); `diagnostics`: leaderboard and feature
  importance of the saved predictors.

Import from the modules; this package re-exports nothing.
"""
