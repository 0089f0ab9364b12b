"""HTTP for every connector: one session type with retries, backoff with jitter, Retry-After, rate limits.

Retries are urllib3's `Retry` on a `requests` adapter (no home-made loop): timeouts, connection errors,
429 and 5xx are retried with exponential backoff and jitter, honouring a server's Retry-After. After the
last try the caller gets a `SourceError` that names the source and the (redacted) URL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingest.secrets import redact

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "cbi-ingest/0.1 (+https://github.com/cbi-forecasting/cbi)"


class SourceError(RuntimeError):
    """A source could not be fetched or parsed; the message names the source (and field/row where known)."""

    def __init__(self, source: str, message: str):
        super().__init__(redact(f"{source}: {message}"))
        self.source = source


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class RateLimitedSession(requests.Session):
    """A session that leaves at least `min_interval_s` between the starts of two requests."""

    def __init__(self, min_interval_s: float = 0.0):
        super().__init__()
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._last_start = 0.0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            wait = self._last_start + self.min_interval_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_start = time.monotonic()
        return super().request(method, url, *args, **kwargs)


def build_session(
    requests_per_second: float | None = None,
    retries: int | None = None,
    backoff_factor: float | None = None,
) -> RateLimitedSession:
    """A session with retries on timeouts, connection errors, 429 and 5xx (GET only).

    Defaults: 5 retries, backoff 0.5 s doubling (capped at 60 s) plus up to 0.5 s jitter; overridable with
    CBI_HTTP_RETRIES and CBI_HTTP_BACKOFF for slow links (and by the tests, to keep them fast).
    """
    retries = int(_env_float("CBI_HTTP_RETRIES", 5)) if retries is None else retries
    backoff_factor = _env_float("CBI_HTTP_BACKOFF", 0.5) if backoff_factor is None else backoff_factor
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_factor,
        backoff_jitter=min(0.5, backoff_factor),
        backoff_max=60,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    session = RateLimitedSession(1.0 / requests_per_second if requests_per_second else 0.0)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def fetch(
    session: requests.Session,
    source: str,
    url: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    expect: str | None = None,
    timeout_s: float = 60.0,
) -> requests.Response:
    """GET `url`; raise `SourceError` after the last retry or if the body is not what was expected.

    `expect` = "csv", "json", "xml" or None. An HTML page where data was expected (a login wall, an error
    page served with status 200) is an error, not data.
    """
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeout_s)
        response.raise_for_status()
    except requests.exceptions.RetryError as exc:
        raise SourceError(source, f"GET {url} failed after retries: {exc}") from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(source, f"GET {url} failed: {exc}") from None
    content_type = response.headers.get("Content-Type", "").lower()
    head = response.content[:512].lstrip().lower()
    if expect in {"csv", "json", "xml"} and (
        "text/html" in content_type or head.startswith((b"<!doctype html", b"<html"))
    ):
        raise SourceError(source, f"GET {url} returned an HTML page where {expect.upper()} was expected")
    log.debug("%s: GET %s -> %d (%d bytes)", source, redact(response.url), response.status_code, len(response.content))
    return response
