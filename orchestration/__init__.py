"""CBI operated every day: Dagster assets, jobs, schedules, monitors, alerts (the run lock: `cbi_core.lock`).

`orchestration.definitions:defs` is what `dagster dev` (``make ops``) loads; `cbi run daily|weekly|quality|monitor`
executes the same jobs in process.
"""

from cbi_core.secrets import install_redaction

# Every log record of a run is redacted as it is made, so no secret reaches Dagster's stored logs.
install_redaction()
