"""Downloads follow redirects only within Slack's file host: the token never leaves it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient

from handlers.slack.files import download
from storage.sheets.read import FileRefused, Limits


@contextmanager
def host(redirect_to: str | None = None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A file host on 127.0.0.1: serves a small CSV at /new/..., and redirects /old/... to
    `redirect_to` (empty: to its own /new/...)."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            if redirect_to is not None and "/old/" in self.path:
                self.send_response(302)
                self.send_header("Location", redirect_to + self.path.replace("/old", "/new"))
                self.end_headers()
                return
            body = b"Activity ID,Title\nA-1,Talk\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_another_host_is_refused_before_the_token_goes_there() -> None:
    with host() as (elsewhere, their_requests), host(redirect_to=elsewhere) as (slack, _):
        client = WebClient(token="xoxb-secret", base_url=f"{slack}/api/")
        file = {"name": "a.csv", "url_private_download": f"{slack}/files-pri/old/a.csv"}
        with pytest.raises(FileRefused, match="not to Slack's file host"):
            download(file, client=client, limits=Limits())
        assert their_requests == []


def test_a_redirect_within_slacks_file_host_is_followed_with_the_token() -> None:
    with host(redirect_to="") as (slack, requests):
        client = WebClient(token="xoxb-secret", base_url=f"{slack}/api/")
        file = {"name": "a.csv", "url_private": f"{slack}/files-pri/old/a.csv"}
        assert download(file, client=client, limits=Limits()).startswith(b"Activity ID")
        assert [r["path"] for r in requests] == ["/files-pri/old/a.csv", "/files-pri/new/a.csv"]
        assert {r["authorization"] for r in requests} == {"Bearer xoxb-secret"}
