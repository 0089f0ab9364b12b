"""CBI operated every day: Dagster assets, jobs, schedules, monitors, alerts (the run lock: `cbi_core.lock`).

`orchestration.definitions:defs` is what `dagster dev` (``make ops``) loads; `cbi run daily|weekly|quality|monitor`
executes the same jobs in process.
"""
