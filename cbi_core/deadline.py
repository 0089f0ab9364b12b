"""Wall-clock deadlines for HTTP: a socket timeout bounds each read, not the request, so a server sending one byte
every few seconds could hold a request for ever. A session built here records the sockets it opens; `within`
shuts them down when the deadline passes, whatever the request is doing (connecting, reading headers or body),
and the blocked read ends at once with a connection error.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Sockets:
    """The open sockets of one session; `cut` shuts every one down (a blocked read returns at once)."""

    def __init__(self) -> None:
        self._open: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.cut_at: float | None = None  # when `cut` last ran (monotonic), for the error message

    def add(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._open.add(sock)

    def cut(self) -> None:
        self.cut_at = time.monotonic()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


def _tracked_pool(pool: type[HTTPConnectionPool], connection: type[HTTPConnection], sockets: Sockets) -> type:
    class Connection(connection):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    return type(f"Deadline{pool.__name__}", (pool,), {"ConnectionCls": Connection})


class DeadlineAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose connections register their sockets in `sockets`."""

    def __init__(self, sockets: Sockets, **kwargs: Any) -> None:
        self.sockets = sockets
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _tracked_pool(HTTPConnectionPool, HTTPConnection, self.sockets),
            "https": _tracked_pool(HTTPSConnectionPool, HTTPSConnection, self.sockets),
        }


def mount(session: requests.Session, sockets: Sockets, **adapter_kwargs: Any) -> None:
    """Mount a `DeadlineAdapter` on `session` for http and https."""
    adapter = DeadlineAdapter(sockets, **adapter_kwargs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


@contextmanager
def within(sockets: Sockets, seconds: float) -> Iterator[None]:
    """Cut `sockets` if the block still runs after `seconds` (wall clock)."""
    timer = threading.Timer(max(seconds, 0.0), sockets.cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
