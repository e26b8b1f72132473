"""The composition root: settings, database and handlers put together into one Bolt app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.error import URLError

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine

from bot.errors import ConfigurationError
from bot.settings import Settings
from handlers.registry import register
from handlers.slack.context import Deps
from handlers.slack.work import AT_ONCE, Work

__all__ = ["ConfigurationError", "create_app", "create_web_client", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_web_client(settings: Settings) -> WebClient:
    """A Web API client that honours SLACK_API_URL and retries on a dropped connection,
    429 and 5xx."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            # Only a request urllib could not send: after a dropped answer the call may have
            # been done (a DM posted), and doing it again would do it twice.
            ConnectionErrorRetryHandler(max_retry_count=1, error_types=[URLError]),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    clock: Callable[[], datetime] = utc_now,
    socket_mode: bool = False,
    at_once: bool = False,
) -> App:
    """The Bolt app. Every request is acknowledged on the thread it arrived on, before any
    work (process_before_response), and the work runs on pools of this process
    (handlers/slack/work.py); with `at_once` (the console) it runs before dispatch returns."""
    if not settings.slack_bot_token:
        raise ConfigurationError("SLACK_BOT_TOKEN is not set: give the bot token (xoxb-...).")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request from Slack with "
            "it (Basic Information > App Credentials > Signing Secret)."
        )
    app = App(
        client=create_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        logger=logging.getLogger("pars_bot.bolt"),
    )
    deps = Deps(
        engine=engine,
        timezone=settings.timezone,
        admins=settings.pars_admins,
        clock=clock,
        work=AT_ONCE if at_once else Work.pools(),
    )
    register(app, deps)
    return app
