"""Global middleware: dependencies into the context, and guests kept out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from handlers.context import Deps
from storage.activities import Actor

GUEST_REFUSAL = (
    "Sorry, guest accounts can't use pars-bot. Ask a full member of your CME office to make "
    "the change."
)
UNVERIFIED = (
    "I couldn't check your Slack account just now, so nothing was changed. Please try again."
)


class GuestCheck:
    """Is a user a guest (restricted account)? Asked of Slack, remembered for a few minutes."""

    def __init__(self, ttl_seconds: float = 300.0) -> None:
        self._ttl = ttl_seconds
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_guest(self, client: WebClient, team_id: str, user_id: str) -> bool:
        key = (team_id, user_id)
        with self._lock:
            known = self._known.get(key)
        if known and known[1] > time.monotonic():
            return known[0]
        # Asked before Slack's request is acknowledged: no retries and a short timeout, so a
        # rate-limited or slow Slack means a clear refusal, not a missed 3-second window.
        quick = WebClient(
            token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[]
        )
        user = quick.users_info(user=user_id)["user"]
        guest = bool(user.get("is_restricted") or user.get("is_ultra_restricted"))
        with self._lock:
            self._known[key] = (guest, time.monotonic() + self._ttl)
        return guest


def _user_id(body: dict[str, Any]) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id")


def _home_visitor(body: dict[str, Any]) -> str | None:
    event = body.get("event") or {}
    return event.get("user") if event.get("type") == "app_home_opened" else None


def register(app: App, deps: Deps) -> None:
    guests = GuestCheck()

    @app.middleware
    def provide_deps(
        body: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        logger: logging.Logger,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        context["deps"] = deps
        visitor = _home_visitor(body)
        if visitor is not None:
            # A guest's App Home stays empty: nothing about the office's activities.
            try:
                guest = guests.is_guest(client, context.team_id or "", visitor)
            except Exception as error:
                logger.warning("users.info failed for %s: %s", visitor, error)
                return BoltResponse(status=200, body="")
            return BoltResponse(status=200, body="") if guest else next()
        user_id = _user_id(body)
        if user_id is None:  # other events: messages are ignored until batch uploads
            return next()
        context["actor"] = Actor(user_id=user_id, is_admin=user_id in deps.admins)
        try:
            guest = guests.is_guest(client, context.team_id or "", user_id)
        except Exception as error:
            logger.warning("users.info failed for %s: %s", user_id, error)
            return _refuse(body, context, UNVERIFIED)
        if guest:
            logger.info("refused guest %s", user_id)
            return _refuse(body, context, GUEST_REFUSAL)
        return next()


def _refuse(body: dict[str, Any], context: BoltContext, text: str) -> BoltResponse:
    if body.get("type") == "view_submission":
        return BoltResponse(
            status=200, body={"response_action": "errors", "errors": {"title": text}}
        )
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if context.respond is not None and context.respond.response_url:
        context.respond(text=text, response_type="ephemeral", replace_original=False)
    return BoltResponse(status=200, body="")
