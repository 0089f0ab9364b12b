"""The combination layers, from the L0 members' predictions to the final forecast.

- `frames`: the long prediction frames and their wide per-horizon views;
- `stacking`: L1, a linear quantile regression on the members' predictions (walk-forward);
- `ensemble`: L2.5, greedy forward selection (the weights table and the walk-forward ensemble);
- `calibration`: split-conformal shifts sized by independent outcomes;
- `final`: the final choice, the simplest model that earned its place;
- `layers`: the layers put together per horizon, for production and the backtest;
- `provenance`: the final forecast's target dates, run ids and training times.

Import from the modules; this package re-exports nothing.
"""
