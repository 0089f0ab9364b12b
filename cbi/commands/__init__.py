"""The `cbi` commands, one module per command or command group; `cbi.cli` registers them."""
