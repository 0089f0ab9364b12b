"""What every `cbi` command shares: the console, the `--db` option, and the one-line failure."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from cbi_core.secrets import redact
from cbi_core.warehouse import WarehouseError
from ingest.http import SourceError
from ingest.load import LoadError
from ingest.runner import describe_error

# Tables stay readable when stdout is a file or a pipe (rich would otherwise assume 80 columns).
console = Console() if sys.stdout.isatty() else Console(width=160)
log = logging.getLogger("cbi")

DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $CBI_DUCKDB_PATH or ./cbi.duckdb).")]


class UsageError(ValueError):
    """A command-line value is wrong (exit code 2)."""


def fail(message: str, code: int = 1) -> None:
    """The one line every failure ends with (stderr, no traceback), then exit `code`."""
    print(f"error: {redact(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any failure of `command` into one line on stderr and a non-zero exit (2 for bad options)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except UsageError as exc:
            fail(str(exc), 2)
        except (SourceError, LoadError, WarehouseError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail(f"{command.__name__}: interrupted", 130)
        except Exception as exc:  # the last resort: still one line, the details with --verbose
            log.debug("unexpected failure", exc_info=True)
            fail(describe_error(f"cbi {command.__name__.replace('_', ' ')}", exc))

    return wrapper


def parse_date(value: str | None, option: str = "--start") -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None
