"""CBI, the application: the `cbi` command line, the composition root above every other package.

`cbi.cli.app` is the root Typer app (the `cbi` console script, `python -m cbi`); each command lives in
`cbi.commands.<name>`. Only this package may import all of `ingest`, `cbi_ml`, `orchestration` and `dashboard`;
the allowed import directions are declared once, in `tests/python/test_package_layout.py`.
"""
