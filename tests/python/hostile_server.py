"""A scripted HTTP server on 127.0.0.1 for hostile tests: records each request's path and answers with a plan —
200, a redirect, or a trickle (one header byte every `interval` seconds, the slow-loris reply)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HostileServer:
    def __init__(self, mode: str = "ok", interval: float = 0.2, location: str = "", status: int = 200) -> None:
        self.paths: list[str] = []
        self.mode, self.interval, self.location, self.status = mode, interval, location, status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                if length:
                    self.rfile.read(length)
                server.paths.append(self.path)
                if server.mode == "trickle":
                    self._trickle()
                    return
                self.send_response(server.status)
                if server.location:
                    self.send_header("Location", server.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def _trickle(self) -> None:
                # a complete, valid reply in the end (~`interval` x 100 s): a client without a wall-clock
                # deadline accepts it; one with a deadline shorter than that gives up first
                padding = b"a" * (100 - 60)
                reply = b"HTTP/1.1 200 OK\r\nX-Slow: " + padding + b"\r\nContent-Length: 2\r\n\r\nok"
                try:
                    for byte in reply:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(server.interval)
                except OSError:
                    pass

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
