"""Alerts to a Slack-compatible incoming webhook (`CBI_ALERT_WEBHOOK_URL`); without one they are only logged.

Posting is retried with exponential backoff, and one alert (its attempts and waits together) has a wall-clock
deadline (`ALERT_DEADLINE_S`, `cbi_core.deadline`): a webhook dripping its answer a byte at a time holds a run
that long at most. A redirect is not followed (a webhook's message never goes to an address other than the one
configured) and is not a delivery. A webhook that fails never fails the run (`post_alert` returns False and
logs why). Messages are redacted (`cbi_core.secrets.redact`) and the webhook
address, itself a secret, is never logged.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import requests

from cbi_core.deadline import Sockets, mount, within
from cbi_core.secrets import redact
from orchestration.config import (
    ALERT_BACKOFF_ENV,
    ALERT_BACKOFF_S,
    ALERT_DEADLINE_ENV,
    ALERT_DEADLINE_S,
    ALERT_RETRIES,
    ALERT_TIMEOUT_S,
    ALERT_WEBHOOK_ENV,
)

log = logging.getLogger(__name__)

#: What an alert is about (the first word of its text, so people can filter on it).
KINDS = (
    "run_failed",
    "step_failed",
    "gate_failed",
    "source_failed",
    "source_stale",
    "coverage",
    "var",
    "drift",
    "pinball",
    "retrain_rejected",
)


def webhook_url() -> str | None:
    value = os.environ.get(ALERT_WEBHOOK_ENV, "").strip()
    return value or None


def format_alert(kind: str, title: str, details: str = "", job: str | None = None, run_id: str | None = None) -> str:
    """The alert text: `[CBI <kind>] <title>`, the job and run, then the details; secrets redacted."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; known: {KINDS}")
    head = f"[CBI {kind}] {title}"
    where = f"job {job}, run {run_id}" if job else ""
    return redact("\n".join(part for part in (head, where, details.strip()) if part))


def _setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0 <= value < float("inf") else default


def _attempt(session: requests.Session, url: str, text: str, timeout: float) -> tuple[bool | None, str]:
    """One post: (True delivered | False refused, stop | None retry, why)."""
    try:
        response = session.post(url, json={"text": text}, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return None, type(exc).__name__
    status = response.status_code
    if 200 <= status < 300:
        return True, f"HTTP {status}"
    if 300 <= status < 400:
        log.error("alert webhook answered with a redirect (HTTP %d); not followed, not delivered", status)
        return False, f"HTTP {status}"
    if status < 500 and status != 429:
        log.error("alert webhook refused the message (HTTP %d); not retrying", status)
        return False, f"HTTP {status}"
    return None, f"HTTP {status}"


def post_alert(text: str, url: str | None = None) -> bool:
    """Post `text` as `{"text": ...}`; True when the webhook accepted it (2xx). Never raises; returns within
    the alert's deadline."""
    url = url or webhook_url()
    text = redact(text)
    log.warning("alert: %s", text)
    if not url:
        return False
    backoff = _setting(ALERT_BACKOFF_ENV, ALERT_BACKOFF_S)
    deadline = time.monotonic() + _setting(ALERT_DEADLINE_ENV, ALERT_DEADLINE_S)
    sockets = Sockets()
    problem = "no attempt"
    with requests.Session() as session:
        mount(session, sockets)
        for attempt in range(ALERT_RETRIES + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                problem += ", then the alert's deadline passed"
                break
            sockets.cut_at = None
            with within(sockets, left):
                delivered, problem = _attempt(session, url, text, min(ALERT_TIMEOUT_S, left))
            if sockets.cut_at is not None:  # a reply cut short can still parse as a status line and EOF
                problem = "cut at the alert's deadline"
                break
            if delivered is not None:
                return delivered
            wait = backoff * 2**attempt
            if attempt < ALERT_RETRIES and wait < deadline - time.monotonic():
                time.sleep(wait)
            elif attempt < ALERT_RETRIES:
                problem += ", and the next wait would pass the alert's deadline"
                break
    log.error("alert webhook failed (%s); the run goes on", problem)
    return False


@dataclass
class Alerter:
    """Alerts of one run: each distinct (kind, title) is posted once."""

    job: str | None = None
    run_id: str | None = None
    sent: list[str] = field(default_factory=list)

    def __call__(self, kind: str, title: str, details: str = "") -> bool:
        text = format_alert(kind, title, details, self.job, self.run_id)
        key = f"{kind}:{title}"
        if key in self.sent:
            return False
        self.sent.append(key)
        return post_alert(text)
