"""The panel walk-forward: CBI's price-only members, their calibration and the final choice run on every futures
root the warehouse holds, so that calibration and method choices rest on many markets rather than ZL's one path.

- `prices`: one root's continuous back-adjusted bars -> the price frame the members read (ZL matrix column names);
- `members`: the `Member` protocol and the registry of price-only members (today's member functions);
- `walk`: the point-in-time walk-forward on a common refit calendar;
- `stats`: pooled rates and skill with standard errors that respect overlap and cross-market correlation;
- `choice`: the calibration and the final choice decided on pooled evidence, and the evidence file production reads;
- `tables`: panel_metrics / panel_summary; `command`: `cbi panel`.
"""
