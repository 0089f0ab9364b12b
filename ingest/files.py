"""Reading a file a user points at: one clear error for every way it can be wrong.

A missing path, a directory, a symlink loop, an unreadable file, a truncated gzip, an empty file, an HTML page
saved under a data name, or bytes that are not text each get a `SourceError` that says so, instead of a
parser's error about something else.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import zlib
from pathlib import Path

import pandas as pd

from ingest.http import SourceError

_HTML_HEADS = (b"<!doctype html", b"<html", b"<head", b"<?xml version")
#: The largest file CBI reads, after gunzipping (as HTTP bodies are capped); `CBI_FILE_MAX_BYTES` overrides it.
FILE_MAX_BYTES = 512 * 1024 * 1024
FILE_MAX_BYTES_ENV = "CBI_FILE_MAX_BYTES"


def max_file_bytes() -> int:
    """The cap on a file's (unpacked) size: `CBI_FILE_MAX_BYTES` if it is a positive integer, else 512 MB."""
    try:
        value = int(os.environ.get(FILE_MAX_BYTES_ENV, FILE_MAX_BYTES))
    except ValueError:
        return FILE_MAX_BYTES
    return value if value > 0 else FILE_MAX_BYTES


def _gunzip(data: bytes, path: Path, source: str, limit: int) -> bytes:
    """`data` gunzipped, reading at most `limit` + 1 bytes (a gzip bomb is refused, never unpacked whole)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(limit + 1)
    except EOFError:
        raise SourceError(source, f"{path} is a truncated gzip file (it ends before the end of its data)") from None
    except (OSError, zlib.error) as exc:
        raise SourceError(source, f"{path} is not a valid gzip file: {exc}") from None
    if len(out) > limit:
        raise SourceError(source, f"{path} unpacks to more than {limit:,} bytes (the cap, {FILE_MAX_BYTES_ENV})")
    return out


def check_file(path: Path, source: str) -> None:
    """Raise a `SourceError` unless `path` is a readable regular file (after following symlinks)."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(source, f"{path} is a symlink loop") from None
        if exc.errno == errno.ENOENT:
            broken = path.is_symlink()
            raise SourceError(source, f"{path} {'is a broken symlink' if broken else 'not found'}") from None
        raise SourceError(source, f"cannot read {path}: {exc.strerror}") from None
    if path.is_dir():
        raise SourceError(source, f"{path} is a directory, not a file")
    if not path.is_file():
        raise SourceError(source, f"{path} is not a regular file")


def file_problem(path: Path) -> str | None:
    """The reason `path` cannot be read as a file, or None (for a connector's `available()`)."""
    try:
        check_file(path, "file")
    except SourceError as exc:
        return str(exc).removeprefix("file: ")
    return None


def read_bytes(path: Path, source: str) -> bytes:
    """The file's bytes, gunzipped when it ends in .gz, at most `max_file_bytes()` either way; errors name the
    file and what is wrong with it."""
    check_file(path, source)
    limit = max_file_bytes()
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise SourceError(source, f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise SourceError(source, f"{path} is larger than {limit:,} bytes (the cap, {FILE_MAX_BYTES_ENV})")
    if path.name.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path, source, limit)
    return data


def read_text(path: Path, source: str, what: str = "CSV") -> str:
    """The file as text (UTF-8, else Latin-1), refusing empty files and HTML pages."""
    data = read_bytes(path, source)
    if not data.strip():
        raise SourceError(source, f"{path} is empty")
    if data.lstrip()[:20].lower().startswith(_HTML_HEADS[:3]):
        raise SourceError(source, f"{path} is an HTML page, not a {what} (a saved error or login page?)")
    if b"\x00" in data[:4096]:
        raise SourceError(source, f"{path} is a binary file, not a {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_csv_text(text: str, source: str, path: Path | str = "the body") -> pd.DataFrame:
    """A CSV as strings, with a `_line` column holding each row's file line (header = line 1).

    Blank lines inside the data are kept as empty rows (so line numbers stay right and the loader reports
    them); blank lines at the end are dropped.
    """
    try:
        frame = pd.read_csv(
            io.StringIO(text.rstrip() + "\n"), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(source, f"{path} is not a CSV: {str(exc).strip()}") from None
    frame["_line"] = range(2, len(frame) + 2)
    return frame
