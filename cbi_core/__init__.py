"""What every CBI package shares, importing none of them (tests/python/test_package_layout.py):

- `settings`: the project directory and the warehouse path (and the environment dbt is started with);
- `secrets`: API keys from the environment and `redact`, which keeps them out of logs, errors and the database;
- `warehouse` and `errors`: opening the warehouse, running SQL on it, `WarehouseError` and `WarehouseBusy`;
- `lock`: the run lock (one writer at a time);
- `calendar`: the CBOT trade-date calendar;
- `deadline`: wall-clock deadlines for HTTP requests;
- `snapshot`: the read-only snapshot readers open instead of the live warehouse;
- `lockfile` and `pip_index`: the dependency lock check and the pip-settings bridge that `make install` runs
  before anything else is installed."""
