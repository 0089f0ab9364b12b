"""API keys come from environment variables only, and never reach logs, errors or the database."""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urlsplit

#: Every secret CBI reads, by environment variable.
SECRET_ENV_VARS = ("FRED_API_KEY", "EIA_API_KEY", "DATABENTO_API_KEY", "USDA_FAS_API_KEY", "MOTHERDUCK_TOKEN")

#: Settings that are themselves secrets: an address whose path carries the token (a Slack-style webhook).
SECRET_URL_ENV_VARS = ("CBI_ALERT_WEBHOOK_URL",)

# `name=value` where the name ends in key/token/secret/password (api_key=, motherduck_token=, MOTHERDUCK_TOKEN=
# in a file's header, access_token=), and `Bearer <token>`: redacted whatever the value.
_KEY_PATTERN = re.compile(r"(?i)([a-z0-9_.-]*(?:api[_-]?key|key|token|secret|password))=([^&\s\"',;\]\)]+)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[a-z0-9._~+/=-]{8,}")


_KEY_NAMES = frozenset({"api_key", "apikey", "api-key", "token", "key", "access_token", "x-api-key"})


def is_key_name(name: str) -> bool:
    """Whether a query parameter or header called `name` carries a key."""
    return name.strip().lower() in _KEY_NAMES


def get_secret(name: str) -> str | None:
    """The value of secret `name` from the environment, or None if unset or empty."""
    if name not in SECRET_ENV_VARS:
        raise KeyError(f"{name} is not a known secret")
    value = os.environ.get(name, "").strip()
    return value or None


def _secret_values() -> list[str]:
    """Every secret value set in the environment, longest first: the keys, and each secret address whole and
    its path and query (an HTTP library's debug log shows `POST /services/T0/B0/token` without the host)."""
    values = [os.environ.get(name, "").strip() for name in SECRET_ENV_VARS]
    for name in SECRET_URL_ENV_VARS:
        url = os.environ.get(name, "").strip()
        parts = urlsplit(url)
        values += [url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path]
    return sorted({v for v in values if len(v) >= 4 and v.strip("/")}, key=len, reverse=True)


def redact(text: object) -> str:
    """`text` with every known secret value, every `...key=`/`...token=` value and every bearer token
    replaced by ***."""
    out = str(text)
    for value in _secret_values():
        out = out.replace(value, "***")
    out = _BEARER.sub(lambda m: f"{m.group(1)} ***", out)
    return _KEY_PATTERN.sub(lambda m: f"{m.group(1)}=***", out)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction() -> None:
    """Redact every log record as it is made, whichever logger makes it and whichever handler writes it (the
    CLI's stderr, Dagster's stored compute logs, a library's debug lines). Idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "cbi_redacts", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    make.cbi_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
