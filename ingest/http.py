"""HTTP for every connector: bounded waits, retries with backoff, capped Retry-After, no leaked credentials.

- Retries are urllib3's `Retry` on a `requests` adapter: timeouts, connection errors, 429 and 5xx are retried
  with exponential backoff and jitter, honouring a server's Retry-After up to a cap. Every wait is logged.
- Every wait is bounded (`HttpLimits`, the one home of these settings, each overridable by an environment
  variable): each try has a connect/read timeout, each request (its tries, waits and body) a total deadline,
  and each source (one session) a total deadline. The deadlines are wall-clock (`cbi_core.deadline`): at the
  deadline the request's sockets are shut down, so a server dripping one header or body byte at a time is cut
  off there, not after a socket timeout per byte.
- Credentials never leave for another origin: on a redirect to a different scheme, host or port, every header
  and query parameter that carries a key is removed before the request is sent (`CbiSession.rebuild_auth`).
- A failure is one `SourceError` that names the source and the (redacted) URL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from urllib3.util.retry import Retry

from cbi_core.deadline import Sockets, mount, within
from cbi_core.secrets import SECRET_ENV_VARS, is_key_name, redact

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "cbi-ingest/0.1 (+https://github.com/cbi-forecasting/cbi)"
#: Headers that carry credentials (lower case); any header whose value is a known secret counts too.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api_key", "api-key", "cookie"})


class SourceError(RuntimeError):
    """A source could not be fetched or parsed; the message names the source (and field/row where known)."""

    def __init__(self, source: str, message: str):
        super().__init__(redact(f"{source}: {message}"))
        self.source = source

    @classmethod
    def plain(cls, source: str, line: str) -> SourceError:
        """An error whose `line` already names its source (e.g. "fred DGS10: ...")."""
        error = cls(source, "")
        error.args = (redact(line),)
        return error


class DeadlineExceeded(RuntimeError):
    """A wait would run past the request's or the source's deadline."""


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, os.environ.get(name), default)
        return default
    if not value >= 0 or value == float("inf"):
        log.warning("%s=%r is not a finite number >= 0; using %s", name, os.environ.get(name), default)
        return default
    return value


@dataclass(frozen=True)
class HttpLimits:
    """Every HTTP bound, in one place. Environment variables override the defaults (for slow links, tests)."""

    retries: int = 5  # CBI_HTTP_RETRIES: tries after the first
    backoff_s: float = 0.5  # CBI_HTTP_BACKOFF: first backoff, doubling, plus up to 0.5 s jitter
    backoff_max_s: float = 30.0  # CBI_HTTP_BACKOFF_MAX
    retry_after_max_s: float = 60.0  # CBI_HTTP_RETRY_AFTER_MAX: a longer Retry-After is cut to this
    timeout_s: float = 30.0  # CBI_HTTP_TIMEOUT: connect and read timeout of one try
    request_deadline_s: float = 180.0  # CBI_HTTP_REQUEST_DEADLINE: one request, all tries, waits and body
    source_deadline_s: float = 1800.0  # CBI_HTTP_SOURCE_DEADLINE: every request of one source together
    max_body_bytes: int = 512 * 1024 * 1024  # CBI_HTTP_MAX_BYTES: a larger body is refused

    @classmethod
    def from_env(cls) -> HttpLimits:
        d = cls()
        return cls(
            retries=int(_env_float("CBI_HTTP_RETRIES", d.retries)),
            backoff_s=_env_float("CBI_HTTP_BACKOFF", d.backoff_s),
            backoff_max_s=_env_float("CBI_HTTP_BACKOFF_MAX", d.backoff_max_s),
            retry_after_max_s=_env_float("CBI_HTTP_RETRY_AFTER_MAX", d.retry_after_max_s),
            timeout_s=_env_float("CBI_HTTP_TIMEOUT", d.timeout_s),
            request_deadline_s=_env_float("CBI_HTTP_REQUEST_DEADLINE", d.request_deadline_s),
            source_deadline_s=_env_float("CBI_HTTP_SOURCE_DEADLINE", d.source_deadline_s),
            max_body_bytes=int(_env_float("CBI_HTTP_MAX_BYTES", d.max_body_bytes)),
        )


class Deadlines:
    """The source's deadline (fixed when the session is built) and the current request's (set per request)."""

    def __init__(self, limits: HttpLimits):
        self.limits = limits
        self.source_at = time.monotonic() + limits.source_deadline_s
        self.request_at = self.source_at

    def start_request(self) -> float:
        """Set the current request's deadline; return the seconds it has."""
        self.request_at = min(self.source_at, time.monotonic() + self.limits.request_deadline_s)
        return self.remaining()

    def remaining(self) -> float:
        return min(self.source_at, self.request_at) - time.monotonic()


class BoundedRetry(Retry):
    """urllib3 `Retry` whose waits are capped (Retry-After), logged, and never run past the deadlines."""

    deadlines: Deadlines | None = None
    label: str = "http"
    retry_after_max_s: float = 60.0

    def new(self, **kw: Any) -> BoundedRetry:
        new = super().new(**kw)
        new.deadlines, new.label, new.retry_after_max_s = self.deadlines, self.label, self.retry_after_max_s
        return new

    def get_retry_after(self, response) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.retry_after_max_s)

    def sleep(self, response=None) -> None:
        asked = response.headers.get("Retry-After") if response is not None else None
        wait = self.get_retry_after(response) if (self.respect_retry_after_header and response is not None) else None
        if not wait:
            wait = self.get_backoff_time()
        last = self.history[-1] if self.history else None
        why = f"HTTP {last.status}" if last is not None and last.status else type(getattr(last, "error", None)).__name__
        if self.deadlines is not None and wait > self.deadlines.remaining():
            raise DeadlineExceeded(
                f"giving up after {len(self.history)} tr{'y' if len(self.history) == 1 else 'ies'} ({why}): "
                f"waiting {wait:.1f} s more would pass the deadline"
            )
        cap = f", Retry-After {asked!r} capped at {self.retry_after_max_s:g} s" if asked else ""
        log.warning("%s: %s; waiting %.1f s before try %d%s", self.label, why, wait, len(self.history) + 1, cap)
        if wait > 0:
            time.sleep(wait)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _secret_values() -> set[str]:
    return {v for v in (os.environ.get(n, "").strip() for n in SECRET_ENV_VARS) if len(v) >= 4}


def strip_credentials(request: requests.PreparedRequest) -> list[str]:
    """Remove every credential header and key-carrying query parameter from `request`; return what went."""
    secrets = _secret_values()
    removed = [
        name for name, value in request.headers.items() if name.lower() in CREDENTIAL_HEADERS or value in secrets
    ]
    for name in removed:
        del request.headers[name]
    parts = urlsplit(request.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if not is_key_name(k) and v not in secrets]
    if len(kept) != len(query):
        removed += [k for k, v in query if (k, v) not in kept]
        request.url = urlunsplit(parts._replace(query=urlencode(kept)))
    return removed


class CbiSession(requests.Session):
    """A session with a request-rate limit, the source's deadlines, and no credentials on cross-origin redirects."""

    def __init__(self, min_interval_s: float = 0.0, limits: HttpLimits | None = None, label: str = "http"):
        super().__init__()
        self.min_interval_s = min_interval_s
        self.limits = limits or HttpLimits.from_env()
        self.deadlines = Deadlines(self.limits)
        self.label = label
        self.sockets = Sockets()  # the session's open sockets, shut down at the request's deadline
        self._lock = threading.Lock()
        self._last_start = 0.0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            wait = self._last_start + self.min_interval_s - time.monotonic()
            if wait > 0:
                if wait > self.deadlines.remaining():
                    raise DeadlineExceeded(f"the rate-limit wait of {wait:.1f} s would pass the deadline")
                log.debug("%s: rate limit, waiting %.2f s", self.label, wait)
                time.sleep(wait)
            self._last_start = time.monotonic()
        return super().request(method, url, *args, **kwargs)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if _origin(response.request.url) != _origin(prepared_request.url):
            removed = strip_credentials(prepared_request)
            where = urlsplit(prepared_request.url)
            log.warning(
                "%s: redirected to another origin %s://%s; credentials not sent there%s",
                self.label,
                where.scheme,
                where.netloc,
                f" (removed {sorted(set(removed))})" if removed else "",
            )


#: The old name, kept for callers that still use it.
RateLimitedSession = CbiSession


def build_session(
    requests_per_second: float | None = None,
    retries: int | None = None,
    backoff_factor: float | None = None,
    label: str = "http",
    limits: HttpLimits | None = None,
) -> CbiSession:
    """A session for one source: retries on timeouts, connection errors, 429 and 5xx (GET only), every wait
    bounded by `HttpLimits` (defaults, overridable with CBI_HTTP_* environment variables); the source's
    deadline starts now."""
    limits = limits or HttpLimits.from_env()
    retries = limits.retries if retries is None else retries
    backoff_factor = limits.backoff_s if backoff_factor is None else backoff_factor
    session = CbiSession(1.0 / requests_per_second if requests_per_second else 0.0, limits, label)
    retry = BoundedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        redirect=None,
        backoff_factor=backoff_factor,
        backoff_jitter=min(0.5, backoff_factor),
        backoff_max=limits.backoff_max_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=True,
    )
    retry.deadlines, retry.label, retry.retry_after_max_s = session.deadlines, label, limits.retry_after_max_s
    mount(session, session.sockets, max_retries=retry)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip, deflate"  # the encodings `_read_body` decodes and checks
    return session


def _check_url(source: str, url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(source, f"{url!r} is not an http(s) address")


def _read_body(response: requests.Response, source: str, url: str, session: CbiSession) -> bytes:
    """The body, read as it arrives (so a slow drip meets the deadline), then decoded; a truncated gzip or
    deflate stream is an error (urllib3 would hand over the part that arrived)."""
    limit = session.limits.max_body_bytes
    chunks, size = [], 0
    raw = response.raw
    try:
        while True:
            chunk = raw.read1(65536, decode_content=False) if hasattr(raw, "read1") else raw.read(65536, False)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise SourceError(source, f"GET {url}: body larger than {limit:,} bytes")
            if session.deadlines.remaining() <= 0:
                raise DeadlineExceeded(f"body still arriving ({size:,} bytes so far) at the deadline")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise SourceError(source, f"GET {url} failed while reading the body: {exc}") from None
    body = b"".join(chunks)
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise SourceError(source, f"GET {url}: unsupported Content-Encoding {encoding!r}")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32 if "gzip" in encoding else zlib.MAX_WBITS)
    try:
        data = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise SourceError(source, f"GET {url}: the {encoding} body is corrupt: {exc}") from None
    if len(data) > limit:
        raise SourceError(source, f"GET {url}: decoded body larger than {limit:,} bytes")
    if not decoder.eof:
        raise SourceError(source, f"GET {url}: the {encoding} body is truncated (it ends before its end marker)")
    return data


def _request_error(source: str, shown: str, exc: Exception) -> SourceError:
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, requests.exceptions.RetryError):
        return SourceError(source, f"GET {shown} failed after retries: {exc}")
    return SourceError(source, f"GET {shown} failed: {exc}")


def fetch(
    session: requests.Session,
    source: str,
    url: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    expect: str | None = None,
    timeout_s: float | None = None,
    allow_empty: bool = False,
) -> requests.Response:
    """GET `url` within the deadlines; raise `SourceError` after the last retry, at a deadline, on an empty
    body, or if the body is not what was expected.

    `expect` = "csv", "json", "xml" or None. An HTML page where data was expected (a login wall, an error
    page served with status 200) is an error, not data.
    """
    _check_url(source, url)
    if not isinstance(session, CbiSession):  # a plain session still gets the default bounds
        limits = HttpLimits.from_env()
        plain, session = session, build_session(label=source, limits=limits)
        session.headers.update(plain.headers)
    remaining = session.deadlines.start_request()
    shown = redact(url)
    if remaining <= 0:
        raise SourceError(source, f"GET {shown} not started: the source's deadline has passed")
    timeout = min(timeout_s or session.limits.timeout_s, remaining)
    started = time.monotonic()
    session.sockets.cut_at = None
    try:
        with within(session.sockets, remaining):
            response = session.get(url, params=params, headers=headers, timeout=timeout, stream=True)
            try:
                response.raise_for_status()
                body = _read_body(response, source, shown, session)
            finally:
                response.close()
        if session.sockets.cut_at is not None:  # a reply cut short can still look whole: EOF ends headers
            raise SourceError(source, "cut at the deadline")
    except (requests.exceptions.RequestException, SourceError) as exc:
        if session.sockets.cut_at is None:
            raise _request_error(source, shown, exc) from None
        raise SourceError(
            source, f"GET {shown} stopped at its deadline after {time.monotonic() - started:.1f} s (wall clock)"
        ) from None
    except DeadlineExceeded as exc:
        raise SourceError(source, f"GET {shown} stopped after {time.monotonic() - started:.1f} s: {exc}") from None
    response._content = body  # the body is read; .text/.json()/.content work as usual
    if not body.strip() and not allow_empty:
        raise SourceError(source, f"GET {shown} returned an empty body (HTTP {response.status_code})")
    content_type = response.headers.get("Content-Type", "").lower()
    head = body[:512].lstrip().lower()
    if expect in {"csv", "json", "xml"} and (
        "text/html" in content_type or head.startswith((b"<!doctype html", b"<html"))
    ):
        raise SourceError(source, f"GET {shown} returned an HTML page where {expect.upper()} was expected")
    log.debug("%s: GET %s -> %d (%d bytes)", source, redact(response.url), response.status_code, len(body))
    return response


def fetch_json(session: requests.Session, source: str, url: str, kind: type = dict, **kwargs: Any) -> Any:
    """GET a JSON body and check that it is an object (`kind=dict`) or a list (`kind=list`)."""
    response = fetch(session, source, url, expect="json", **kwargs)
    try:
        payload = response.json()
    except ValueError:
        raise SourceError(source, f"GET {redact(url)}: the response is not JSON ({response.text[:80]!r})") from None
    if not isinstance(payload, kind):
        wanted = "an object" if kind is dict else "a list"
        raise SourceError(source, f"GET {redact(url)}: the JSON body is {type(payload).__name__}, expected {wanted}")
    return payload
