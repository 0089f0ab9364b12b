"""Small pieces shared by ingest, cbi_ml and the orchestration: calendar, snapshots, run lock; and the dependency
lock check and pip-settings bridge that `make install` runs before anything is installed."""
