"""Headless Chromium (Debian's `chromium`) for the dashboard's browser tests, screenshots and benchmark.

Each call starts a fresh browser with its own profile and no background networking, loads one page, and returns
the DOM after the scripts ran, the URLs of every network request it made (from Chromium's net log), its console
errors and the wall time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    # Nothing may leave the machine: every host name but localhost resolves to nothing. A request a page makes
    # is still attempted, so it shows in the net log (and fails the test), but no packet goes out.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
)
TIMEOUT_S = 120


@dataclass(frozen=True)
class Request:
    url: str
    initiator: str  # the origin of the page that asked ("null" for a file:// page), or "not an origin" for the
    # browser's own background requests (sign-in, new-tab page), which no page triggered


@dataclass(frozen=True)
class Rendered:
    dom: str
    requests: list[Request]  # every URL request Chromium started (net log), in order
    console_errors: list[str]
    seconds: float  # wall time of the browser process: start, load, render, dump, exit


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def render(
    url: str, screenshot: Path | None = None, window: tuple[int, int] = (1280, 1800), budget_ms: int | None = 10000
) -> Rendered:
    """Load `url` headless; with `budget_ms`, Chromium's virtual time lets timers and rendering finish first."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="cbi-chromium-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        cmd = [
            exe,
            *FLAGS,
            f"--user-data-dir={tmp}/profile",
            f"--log-net-log={netlog}",
            "--net-log-capture-mode=Default",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size={window[0]},{window[1]}",
            "--dump-dom",
        ]
        if budget_ms:
            cmd.append(f"--virtual-time-budget={budget_ms}")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            cmd.append(f"--screenshot={screenshot}")
        started = time.perf_counter()
        proc = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=TIMEOUT_S)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"chromium failed on {url} (exit {proc.returncode}): {proc.stderr[-2000:]}")
        requests = requested_urls(netlog.read_text()) if netlog.exists() else []
    return Rendered(proc.stdout, requests, console_errors(proc.stderr), seconds)


def requested_urls(netlog_text: str) -> list[Request]:
    """Every URL request started in a Chromium net log (JSON; a log cut short at exit is closed first)."""
    text = netlog_text.rstrip().rstrip(",")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        log = json.loads(text + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        Request(e["params"]["url"], str(e["params"].get("initiator", "")))
        for e in log.get("events", [])
        if e.get("type") == start and "url" in (e.get("params") or {})
    ]


def page_requests(rendered: Rendered) -> list[str]:
    """The URLs the page itself requested (the browser's background requests left out)."""
    return [r.url for r in rendered.requests if r.initiator != "not an origin"]


_CONSOLE = re.compile(r"CONSOLE\(\d+\)\] \"(.*)\", source: (.*)")


def console_errors(stderr: str) -> list[str]:
    """The page's console messages that report an error (Chromium prints console output with --enable-logging)."""
    out = []
    for line in stderr.splitlines():
        match = _CONSOLE.search(line)
        if match and ("error" in line.lower() or "uncaught" in line.lower()):
            out.append(match.group(1))
    return out
