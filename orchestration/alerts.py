"""Alerts to a Slack-compatible incoming webhook (`CBI_ALERT_WEBHOOK_URL`); without one they are only logged.

Posting is retried with exponential backoff, every wait is bounded, and a webhook that fails never fails the
run (`post_alert` returns False and logs why). Messages are redacted (`cbi_core.secrets.redact`) and the webhook
address, itself a secret, is never logged.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import requests

from cbi_core.secrets import redact
from orchestration.config import (
    ALERT_BACKOFF_ENV,
    ALERT_BACKOFF_S,
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


def post_alert(text: str, url: str | None = None) -> bool:
    """Post `text` as `{"text": ...}`; True when the webhook accepted it. Never raises."""
    url = url or webhook_url()
    text = redact(text)
    log.warning("alert: %s", text)
    if not url:
        return False
    backoff = float(os.environ.get(ALERT_BACKOFF_ENV, ALERT_BACKOFF_S))
    for attempt in range(ALERT_RETRIES + 1):
        try:
            response = requests.post(url, json={"text": text}, timeout=ALERT_TIMEOUT_S)
            if response.status_code < 300:
                return True
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                log.error("alert webhook refused the message (%s); not retrying", problem)
                return False
        except requests.RequestException as exc:
            problem = type(exc).__name__
        if attempt < ALERT_RETRIES:
            time.sleep(backoff * 2**attempt)
    log.error("alert webhook failed after %d attempts (%s); the run goes on", ALERT_RETRIES + 1, problem)
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
