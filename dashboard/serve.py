"""`cbi dashboard serve`: preview the built site on localhost (the standard library's static file server)."""

from __future__ import annotations

import functools
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dashboard.settings import DEFAULT_HOST, DEFAULT_PORT


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site's files and nothing else: a directory without index.html is 404, never a listing."""

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None


def make_server(directory: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server of the files under `directory` (port 0: any free port); call serve_forever() on it."""
    if not (Path(directory) / "index.html").is_file():
        raise FileNotFoundError(f"no dashboard at {directory}: run `cbi dashboard build` first")
    handler = functools.partial(SiteHandler, directory=str(directory))
    return ThreadingHTTPServer((host, port), handler)
