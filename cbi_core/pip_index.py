"""Run uv with this machine's pip index settings, so that uv finds what pip finds.

uv reads no pip configuration. This module asks pip for its effective settings (`pip config list`: the
configuration files and the PIP_* variables, the variables winning, then the `install` section over `global`)
and passes the ones that choose where packages come from to uv: index URL, extra index URLs, find-links,
no-index, trusted hosts, CA bundle, proxy and timeout. Like pip, uv then takes the best version found on any of
those indexes (`--index-strategy unsafe-best-match`), not only the first index that has the name. pip's
constraint files are not passed: the lock pins every version, and one machine's cap must not leak into the lock
that every machine installs.

Standard library only: `make install` runs it on the bare interpreter before `.venv` has anything.

    python -m cbi_core.pip_index .venv/bin/uv pip sync requirements.lock
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

SECTIONS = (":env:", "install", "global")  # first wins, as pip reads them for `pip install`
_TRUE = {"1", "true", "yes", "on"}


def pip_settings(python: str = sys.executable) -> dict[str, str]:
    """pip's effective value for each setting, from `python -m pip config list` (empty without pip)."""
    try:
        listing = subprocess.run(
            [python, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return {}
    found: dict[tuple[str, str], str] = {}
    for line in listing.splitlines():
        key, sep, value = line.partition("=")
        section, dot, name = key.rpartition(".")
        if sep and dot:
            found[(section, name.replace("_", "-"))] = ast.literal_eval(value)
    settings: dict[str, str] = {}
    for section in reversed(SECTIONS):
        settings.update({name: value for (sect, name), value in found.items() if sect == section})
    if "timeout" in settings:
        settings["default-timeout"] = settings.pop("timeout")
    return settings


def uv_options(settings: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """uv command-line options and environment variables equivalent to pip's index settings."""
    args = ["--index-strategy", "unsafe-best-match"]
    env: dict[str, str] = {}
    if settings.get("index-url"):
        args += ["--default-index", settings["index-url"]]
    for flag, key in (
        ("--index", "extra-index-url"),
        ("--find-links", "find-links"),
        ("--allow-insecure-host", "trusted-host"),
    ):
        for value in settings.get(key, "").split():
            args += [flag, value]
    if settings.get("no-index", "").lower() in _TRUE:
        args.append("--no-index")
    if settings.get("cert"):
        env["SSL_CERT_FILE"] = settings["cert"]
    if settings.get("proxy"):
        env["HTTP_PROXY"] = env["HTTPS_PROXY"] = settings["proxy"]
    if settings.get("default-timeout"):
        env["UV_HTTP_TIMEOUT"] = str(int(float(settings["default-timeout"])))
    return args, env


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    args, env = uv_options(pip_settings())
    os.execvpe(argv[0], [*argv, *args], {**os.environ, **env})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
