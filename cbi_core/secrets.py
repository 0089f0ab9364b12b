"""API keys come from environment variables only, and never reach logs, errors or the database."""

from __future__ import annotations

import logging
import os
import re

#: Every secret CBI reads, by environment variable.
SECRET_ENV_VARS = ("FRED_API_KEY", "EIA_API_KEY", "DATABENTO_API_KEY", "USDA_FAS_API_KEY", "MOTHERDUCK_TOKEN")

# Query parameters and headers that carry keys, whatever their value.
_KEY_PATTERN = re.compile(r"(?i)\b(api_key|apikey|api-key|token|key)=([^&\s\"']+)")


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


def redact(text: object) -> str:
    """`text` with every known secret value and every `key=...` parameter replaced by ***."""
    out = str(text)
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if len(value) >= 4:
            out = out.replace(value, "***")
    return _KEY_PATTERN.sub(lambda m: f"{m.group(1)}=***", out)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
