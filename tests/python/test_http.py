"""Retries, backoff, Retry-After, timeouts, HTML error pages and secret redaction, against a local server."""

from __future__ import annotations

import logging

import pytest
from fake_server import Reply

from cbi_core.secrets import RedactingFilter, redact
from ingest.http import SourceError, build_session, fetch


def test_server_errors_are_retried_until_success(server):
    server.route("/data.csv", Reply(503), Reply(502), Reply(200, "date,value\n2024-01-02,1.0\n"))
    response = fetch(build_session(), "test", f"{server.url}/data.csv", expect="csv")
    assert response.text.startswith("date,value")
    assert len(server.hits("/data.csv")) == 3


def test_retry_after_is_honoured(server):
    server.route("/limited", Reply(429, "slow down", {"Retry-After": "1"}), Reply(200, "{}"))
    fetch(build_session(), "test", f"{server.url}/limited", expect="json")
    first, second = server.hits("/limited")
    assert second.at - first.at >= 0.9  # waited as told, not the tiny test backoff


def test_the_last_failure_names_the_source_and_hides_the_key(server, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "sekrit-key-123456")
    server.route("/obs", Reply(500, "boom"))
    with pytest.raises(SourceError) as err:
        fetch(build_session(), "fred DGS10", f"{server.url}/obs", params={"api_key": "sekrit-key-123456"})
    message = str(err.value)
    assert message.startswith("fred DGS10: GET") and "retries" in message
    assert "sekrit-key-123456" not in message and "api_key=***" in message
    assert len(server.hits("/obs")) == 4  # the first try and 3 retries


def test_timeouts_are_retried_then_reported(server):
    server.route("/slow", Reply(200, "late", delay_s=1.0))
    with pytest.raises(SourceError, match="slow"):
        fetch(build_session(retries=1), "test", f"{server.url}/slow", timeout_s=0.2)
    assert len(server.hits("/slow")) == 2


def test_an_html_page_is_not_data(server):
    server.route(
        "/csv", Reply(200, "<!DOCTYPE html><html><body>Maintenance</body></html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(SourceError, match="HTML page where CSV was expected"):
        fetch(build_session(), "fred DGS10", f"{server.url}/csv", expect="csv")


def test_rate_limit_spaces_requests(server):
    server.route("/r", Reply(200, "ok"))
    session = build_session(requests_per_second=5)
    for _ in range(3):
        fetch(session, "test", f"{server.url}/r")
    stamps = [r.at for r in server.hits("/r")]
    assert all(b - a >= 0.18 for a, b in zip(stamps, stamps[1:], strict=False))


def test_logs_are_redacted(monkeypatch, caplog):
    monkeypatch.setenv("EIA_API_KEY", "eia-secret-987654")
    logger = logging.getLogger("cbi.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="cbi.test"):
        logger.info("calling %s", "https://api.example/v2?api_key=eia-secret-987654&x=1")
    assert "eia-secret-987654" not in caplog.text
    assert redact("token=abc&other=1") == "token=***&other=1"
