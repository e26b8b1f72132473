"""A TCP proxy on loopback that can go silent: it stops forwarding (and accepting) while every
socket stays open, as a dead network path or a hung proxy between the bot and PostgreSQL does.

The kernel still acknowledges what the bot sends and answers its keepalive probes, so nothing
but a deadline kept by the bot itself ends a wait. A stall ends on its own after
`longest_stall` seconds, far beyond any deadline of the bot's: a test whose deadline is missing
then sees the database answer, a wrong outcome, instead of hanging the suite. `cleared_after`
does the same for any other blockage: a lock held, a pool with no free connection.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


class StallingProxy:
    def __init__(
        self, upstream: tuple[str, int], *, longest_stall: float = 15.0, lifetime: float = 300.0
    ) -> None:
        self._upstream = upstream
        self._longest_stall = longest_stall
        self._ends_at = time.monotonic() + lifetime
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._stalled_until = 0.0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="stalling-proxy", daemon=True)

    @classmethod
    def to_database(cls, url: str, **options: float) -> StallingProxy:
        parsed = make_url(url)
        return cls((parsed.host or "127.0.0.1", parsed.port or 5432), **options).start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url_through(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        proxied = make_url(url).set(host="127.0.0.1", port=self.port)
        return proxied.render_as_string(hide_password=False)

    def start(self) -> StallingProxy:
        self._thread.start()
        return self

    def stall(self) -> None:
        with self._lock:
            self._stalled_until = time.monotonic() + self._longest_stall

    def resume(self) -> None:
        with self._lock:
            self._stalled_until = 0.0

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)

    def _stalled(self) -> bool:
        with self._lock:
            return time.monotonic() < self._stalled_until

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        try:
            while not self._closed.is_set() and time.monotonic() < self._ends_at:
                if self._stalled():
                    # Read nothing, accept nothing: bytes wait in the kernel's buffers.
                    self._closed.wait(0.02)
                    continue
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is self._listener:
                        self._accept(selector)
                    elif key.fileobj in self._peers:  # not closed with its peer just now
                        self._forward(selector, key.fileobj)  # type: ignore[arg-type]
        finally:
            for sock in [*self._peers, self._listener]:
                sock.close()
            selector.close()

    def _accept(self, selector: selectors.BaseSelector) -> None:
        client, _ = self._listener.accept()
        try:
            upstream = socket.create_connection(self._upstream, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._peers[client], self._peers[upstream] = upstream, client
        selector.register(client, selectors.EVENT_READ)
        selector.register(upstream, selectors.EVENT_READ)

    def _forward(self, selector: selectors.BaseSelector, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        for end in (sock, peer):
            selector.unregister(end)
            del self._peers[end]
            end.close()


def upstream_url() -> str | None:
    """The PostgreSQL test database, when the run has one."""
    return os.environ.get("PARS_TEST_DATABASE_URL")


@contextmanager
def cleared_after(seconds: float, clear: Callable[[], None]) -> Iterator[None]:
    """A blockage that `clear` ends: after `seconds` by itself, or at once when the block ends."""
    once = threading.Lock()

    def clear_once() -> None:
        if once.acquire(blocking=False):
            clear()

    timer = threading.Timer(seconds, clear_once)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        clear_once()


# A stall ends by itself after this long, so a test without a deadline sees the database
# answer (and fails on that) rather than hang.
CLEARS_AFTER = 15.0
