"""`python -m cbi ...`: the same as the `cbi` console script."""

from cbi.cli import app

app(prog_name="cbi")
