"""Real-source connectors. Each module exposes one `Connector`; `CONNECTORS` is the registry the CLI reads."""
