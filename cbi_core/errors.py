"""The warehouse's errors, shared by the connection (`cbi_core.warehouse`) and the run lock (`cbi_core.lock`)."""


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used; the message says why and what to do."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse (the DuckDB file or the run lock); the message names it."""
