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
        user = client.users_info(user=user_id)["user"]
        guest = bool(user.get("is_restricted") or user.get("is_ultra_restricted"))
        with self._lock:
            self._known[key] = (guest, time.monotonic() + self._ttl)
        return guest


def _user_id(body: dict[str, Any]) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id")


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
        user_id = _user_id(body)
        if user_id is None:  # events: the listener reads its user from the event
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
