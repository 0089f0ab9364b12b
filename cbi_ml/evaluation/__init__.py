"""Evaluation and the walk-forward backtest (the scores themselves are `cbi_ml.scoring`, below this package and
`combine`).

- `var_backtests`: Kupiec, Christoffersen and the Basel traffic light on VaR exceptions;
- `backtest`: the replay (every member refitted every `refit_every` trading days, then the layers);
- `scoreboard`: the replay's scores against the random walks and its VaR backtest;
- `backtest_config`, `backtest_store`, `backtest_console`, `backtest_command`: `cbi backtest` (its settings and
  members, its tables in the warehouse and resume, its terminal tables, the command itself);
- `report`: the HTML report.

Import from the modules; this package re-exports nothing.
"""
