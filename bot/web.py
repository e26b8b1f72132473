"""The HTTP face of the bot: Slack's requests at /slack/events, a health check at /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine

from bot.guard import WSGIApp, guarded
from storage.db import is_reachable

EVENTS_PATH = "/slack/events"


def create_wsgi_app(app: App, engine: Engine, *, signing_secret: str) -> WSGIApp:
    # Bolt verifies each request again (defence in depth): the guard only lets through what
    # Bolt's verifier also accepts, so the second check never raises.
    slack = guarded(SlackRequestHandler(app, path=EVENTS_PATH), signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            healthy = is_reachable(engine)
            body = b"ok\n" if healthy else b"database unreachable\n"
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        body = b"not found\n"
        start_response(
            "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return application
