"""The CBI dashboard: a static site built from the published warehouse snapshot (forecast, risk, drivers, record,
data health), viewable from disk or any web server with no network."""
