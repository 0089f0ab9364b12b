"""What every CBI package shares, importing none of them: settings (the warehouse path), secrets and redaction,
the warehouse connection and its errors, the run lock, the trade-date calendar, the read-only snapshot; and the
dependency lock check and pip-settings bridge that `make install` runs before anything is installed."""
